ALTER TABLE "phone_accounts" DROP CONSTRAINT "phone_accounts_pbx_mac";--> statement-breakpoint
ALTER TABLE "phone_accounts" ADD CONSTRAINT "phone_accounts_mac" UNIQUE("mac");