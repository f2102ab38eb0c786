ALTER TABLE "rollout_results" ALTER COLUMN "block" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "rollout_results" ALTER COLUMN "outcome" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "phone_accounts" ADD COLUMN "firmware_target_rollout_id" text;--> statement-breakpoint
ALTER TABLE "phone_accounts" ADD COLUMN "firmware_target_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rollout_results" ADD COLUMN "extension" text;--> statement-breakpoint
ALTER TABLE "rollout_results" ADD COLUMN "notify" text;--> statement-breakpoint
ALTER TABLE "rollout_results" ADD COLUMN "reason" jsonb;--> statement-breakpoint
ALTER TABLE "rollout_results" ADD COLUMN "block_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "reason" jsonb;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "already_current" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "not_contacted" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "skipped" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Before R12's one-running-rollout-per-type index: older "running" rows of a type that has a newer one were left
-- behind by rollouts whose workflow ended without recording its end; they end as failed, saying so.
UPDATE "rollouts" AS r SET "status" = 'failed', "finished_at" = now(),
  "reason" = '{"code":"workflow-closed","params":{"closeStatus":"unknown"},"text":"the rollout workflow ended (unknown) before it recorded its end"}'::jsonb
WHERE r."status" = 'running' AND EXISTS (
  SELECT 1 FROM "rollouts" AS o
  WHERE o."pbx_id" = r."pbx_id" AND o."model_id" = r."model_id" AND o."status" = 'running' AND o."started_at" > r."started_at"
);--> statement-breakpoint
CREATE UNIQUE INDEX "rollouts_one_running_per_type" ON "rollouts" USING btree ("pbx_id","model_id") WHERE "rollouts"."status" = 'running';