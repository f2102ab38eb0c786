CREATE TABLE "pbx_lifecycle_status" (
	"pbx_id" text PRIMARY KEY NOT NULL,
	"status" jsonb NOT NULL,
	"run_started_at" timestamp with time zone NOT NULL,
	"seq" integer NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "pbx_lifecycle_status" ADD CONSTRAINT "pbx_lifecycle_status_pbx_id_pbxes_id_fk" FOREIGN KEY ("pbx_id") REFERENCES "public"."pbxes"("id") ON DELETE cascade ON UPDATE no action;