CREATE TABLE "phone_version_counts" (
	"pbx_id" text NOT NULL,
	"model_id" text NOT NULL,
	"version" text NOT NULL,
	"phones" integer NOT NULL,
	CONSTRAINT "phone_version_counts_pbx_id_model_id_version_pk" PRIMARY KEY("pbx_id","model_id","version")
);
--> statement-breakpoint
ALTER TABLE "phone_version_counts" ADD CONSTRAINT "phone_version_counts_pbx_id_pbxes_id_fk" FOREIGN KEY ("pbx_id") REFERENCES "public"."pbxes"("id") ON DELETE cascade ON UPDATE no action;