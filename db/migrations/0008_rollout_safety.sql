CREATE TABLE "fleet_rollouts" (
	"id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"model_id" text NOT NULL,
	"target_version" text NOT NULL,
	"who" text NOT NULL,
	"status" text NOT NULL,
	"reason" jsonb,
	"waves" jsonb NOT NULL,
	"current_wave" integer DEFAULT 0 NOT NULL,
	"canary_size" integer,
	"pbx_states" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "pbx_rollout_settings" (
	"pbx_id" text PRIMARY KEY NOT NULL,
	"canary_size" smallint,
	"halt_failed_percent" smallint,
	"halt_failed_blocks_in_row" smallint,
	"max_attempts" smallint,
	"window_start_minute" smallint,
	"window_end_minute" smallint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" text,
	CONSTRAINT "canary_size_range" CHECK ("pbx_rollout_settings"."canary_size" is null or "pbx_rollout_settings"."canary_size" between 1 and 50),
	CONSTRAINT "window_both_or_neither" CHECK (("pbx_rollout_settings"."window_start_minute" is null) = ("pbx_rollout_settings"."window_end_minute" is null))
);
--> statement-breakpoint
CREATE TABLE "rollout_previews" (
	"id" text PRIMARY KEY NOT NULL,
	"pbx_id" text NOT NULL,
	"model_id" text NOT NULL,
	"target_version" text NOT NULL,
	"direction" text NOT NULL,
	"canary_size" integer NOT NULL,
	"blocks" jsonb NOT NULL,
	"phones" jsonb NOT NULL,
	"starts" jsonb NOT NULL,
	"who" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "type_holds" (
	"pbx_id" text NOT NULL,
	"model_id" text NOT NULL,
	"version" text NOT NULL,
	"why" text NOT NULL,
	"who" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "type_holds_pbx_id_model_id_pk" PRIMARY KEY("pbx_id","model_id")
);
--> statement-breakpoint
DROP INDEX "rollouts_one_running_per_type";--> statement-breakpoint
ALTER TABLE "rollout_results" ADD COLUMN "planned_block" integer;--> statement-breakpoint
ALTER TABLE "rollout_results" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rollout_results" ADD COLUMN "last_outcome" text;--> statement-breakpoint
ALTER TABLE "rollout_results" ADD COLUMN "retry_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rollout_results" ADD COLUMN "joined" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "direction" text DEFAULT 'upgrade' NOT NULL;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "policy" jsonb;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "fleet_rollout_id" text;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "wave" integer;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "parked" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "fleet_rollouts" ADD CONSTRAINT "fleet_rollouts_model_id_phone_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."phone_models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pbx_rollout_settings" ADD CONSTRAINT "pbx_rollout_settings_pbx_id_pbxes_id_fk" FOREIGN KEY ("pbx_id") REFERENCES "public"."pbxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_previews" ADD CONSTRAINT "rollout_previews_pbx_id_pbxes_id_fk" FOREIGN KEY ("pbx_id") REFERENCES "public"."pbxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_previews" ADD CONSTRAINT "rollout_previews_model_id_phone_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."phone_models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "type_holds" ADD CONSTRAINT "type_holds_pbx_id_pbxes_id_fk" FOREIGN KEY ("pbx_id") REFERENCES "public"."pbxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "type_holds" ADD CONSTRAINT "type_holds_model_id_phone_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."phone_models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "rollout_previews_type" ON "rollout_previews" USING btree ("pbx_id","model_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "rollouts_one_open_per_type" ON "rollouts" USING btree ("pbx_id","model_id") WHERE "rollouts"."status" in ('running', 'paused', 'halted');--> statement-breakpoint
CREATE INDEX "rollouts_fleet" ON "rollouts" USING btree ("fleet_rollout_id");