CREATE TABLE "api_tokens" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"pbx_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "blobs" (
	"sha256" text PRIMARY KEY NOT NULL,
	"size" bigint NOT NULL,
	"stored_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "catalog_releases" (
	"id" text PRIMARY KEY NOT NULL,
	"vendor" text NOT NULL,
	"model_ids" text[] NOT NULL,
	"version" text NOT NULL,
	"file_name" text NOT NULL,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"released_at" timestamp with time zone NOT NULL,
	"notes" text DEFAULT '' NOT NULL,
	"withdrawn" boolean DEFAULT false NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "catalog_state" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"etag" text,
	"serial" bigint DEFAULT 0 NOT NULL,
	"synced_at" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "journal" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"pbx_id" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"action" text NOT NULL,
	"why" text NOT NULL,
	"who" text NOT NULL,
	"model_id" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "local_firmware" (
	"pbx_id" text NOT NULL,
	"model_id" text NOT NULL,
	"version" text NOT NULL,
	"file_name" text NOT NULL,
	"sha256" text,
	"source" text NOT NULL,
	"stored_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delete_at_next_restart" boolean DEFAULT false NOT NULL,
	CONSTRAINT "local_firmware_pbx_id_model_id_version_pk" PRIMARY KEY("pbx_id","model_id","version")
);
--> statement-breakpoint
CREATE TABLE "pbxes" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"time_zone" text NOT NULL,
	"software_version" text,
	"weekly_check_day" smallint NOT NULL,
	"weekly_check_minute" smallint NOT NULL,
	"auto_download_install" boolean DEFAULT true NOT NULL,
	"update_day" smallint,
	"update_minute" smallint,
	"provisioning_user" text NOT NULL,
	"provisioning_secret_hash" text NOT NULL,
	"sip_domain" text NOT NULL,
	"phones_task_queue" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_restart_at" timestamp with time zone,
	CONSTRAINT "pbxes_sip_domain_unique" UNIQUE("sip_domain"),
	CONSTRAINT "weekly_check_day_range" CHECK ("pbxes"."weekly_check_day" between 0 and 6),
	CONSTRAINT "weekly_check_minute_range" CHECK ("pbxes"."weekly_check_minute" between 0 and 1439),
	CONSTRAINT "update_day_range" CHECK ("pbxes"."update_day" is null or "pbxes"."update_day" between 0 and 6),
	CONSTRAINT "update_minute_range" CHECK ("pbxes"."update_minute" is null or "pbxes"."update_minute" between 0 and 1439)
);
--> statement-breakpoint
CREATE TABLE "phone_accounts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"pbx_id" text NOT NULL,
	"model_id" text NOT NULL,
	"mac" text NOT NULL,
	"extension" text NOT NULL,
	"display_name" text,
	"active" boolean DEFAULT true NOT NULL,
	"installed_version" text,
	"user_agent" text,
	"last_contact_at" timestamp with time zone,
	"sip_contact" text,
	"sip_registered_until" timestamp with time zone,
	"sip_ha1" text,
	"sip_call_id" text,
	"last_boot_at" timestamp with time zone,
	"last_provisioned_at" timestamp with time zone,
	"firmware_target_version" text,
	"firmware_target_set_at" timestamp with time zone,
	"firmware_fetch_file" text,
	"firmware_fetch_started_at" timestamp with time zone,
	"firmware_fetch_completed_at" timestamp with time zone,
	"firmware_fetch_aborted_at" timestamp with time zone,
	"firmware_fetch_bytes" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "phone_accounts_pbx_mac" UNIQUE("pbx_id","mac"),
	CONSTRAINT "phone_accounts_pbx_extension" UNIQUE("pbx_id","extension")
);
--> statement-breakpoint
CREATE TABLE "phone_models" (
	"id" text PRIMARY KEY NOT NULL,
	"vendor" text NOT NULL,
	"model" text NOT NULL,
	"provisioning_key" text NOT NULL,
	"image_managed" boolean DEFAULT false NOT NULL,
	"in_catalog" boolean DEFAULT true NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rollout_results" (
	"rollout_id" text NOT NULL,
	"phone_account_id" bigint NOT NULL,
	"mac" text NOT NULL,
	"block" integer NOT NULL,
	"outcome" text NOT NULL,
	"from_version" text,
	"reported_version" text,
	"detail" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rollout_results_rollout_id_phone_account_id_pk" PRIMARY KEY("rollout_id","phone_account_id")
);
--> statement-breakpoint
CREATE TABLE "rollouts" (
	"id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"pbx_id" text NOT NULL,
	"model_id" text NOT NULL,
	"target_version" text NOT NULL,
	"why" text NOT NULL,
	"who" text NOT NULL,
	"status" text NOT NULL,
	"total" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"blocks" integer DEFAULT 0 NOT NULL,
	"blocks_done" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "type_settings" (
	"pbx_id" text NOT NULL,
	"model_id" text NOT NULL,
	"auto_update" boolean DEFAULT true NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "type_settings_pbx_id_model_id_pk" PRIMARY KEY("pbx_id","model_id")
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_pbx_id_pbxes_id_fk" FOREIGN KEY ("pbx_id") REFERENCES "public"."pbxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journal" ADD CONSTRAINT "journal_pbx_id_pbxes_id_fk" FOREIGN KEY ("pbx_id") REFERENCES "public"."pbxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "local_firmware" ADD CONSTRAINT "local_firmware_pbx_id_pbxes_id_fk" FOREIGN KEY ("pbx_id") REFERENCES "public"."pbxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "local_firmware" ADD CONSTRAINT "local_firmware_model_id_phone_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."phone_models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "local_firmware" ADD CONSTRAINT "local_firmware_sha256_blobs_sha256_fk" FOREIGN KEY ("sha256") REFERENCES "public"."blobs"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "phone_accounts" ADD CONSTRAINT "phone_accounts_pbx_id_pbxes_id_fk" FOREIGN KEY ("pbx_id") REFERENCES "public"."pbxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "phone_accounts" ADD CONSTRAINT "phone_accounts_model_id_phone_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."phone_models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_results" ADD CONSTRAINT "rollout_results_rollout_id_rollouts_id_fk" FOREIGN KEY ("rollout_id") REFERENCES "public"."rollouts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_pbx_id_pbxes_id_fk" FOREIGN KEY ("pbx_id") REFERENCES "public"."pbxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_model_id_phone_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."phone_models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "type_settings" ADD CONSTRAINT "type_settings_pbx_id_pbxes_id_fk" FOREIGN KEY ("pbx_id") REFERENCES "public"."pbxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "type_settings" ADD CONSTRAINT "type_settings_model_id_phone_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."phone_models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "catalog_releases_vendor" ON "catalog_releases" USING btree ("vendor");--> statement-breakpoint
CREATE INDEX "journal_pbx_at" ON "journal" USING btree ("pbx_id","at");--> statement-breakpoint
CREATE INDEX "phone_accounts_pbx_model" ON "phone_accounts" USING btree ("pbx_id","model_id");--> statement-breakpoint
CREATE INDEX "rollouts_pbx_model" ON "rollouts" USING btree ("pbx_id","model_id");