-- R6 "in use": phone_version_counts (db/schema.ts) follows phone_accounts through statement-level triggers, so
-- the overview reads a few rows per PBX instead of counting all its phones. Hand-written: drizzle-kit does not
-- generate triggers. Each statement's net change per (PBX, type, version) is applied in key order, so statements
-- running at once lock counter rows in the same order (no deadlock between them). A PBX being deleted is
-- skipped: its counters go with it (foreign key, on delete cascade).
CREATE FUNCTION phone_version_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO phone_version_counts AS c (pbx_id, model_id, version, phones)
    SELECT d.pbx_id, d.model_id, d.version, d.n
    FROM (
      SELECT pbx_id, model_id, coalesce(installed_version, '') AS version, count(*)::int AS n
      FROM new_rows GROUP BY 1, 2, 3
    ) d
    WHERE EXISTS (SELECT 1 FROM pbxes p WHERE p.id = d.pbx_id)
    ORDER BY 1, 2, 3
    ON CONFLICT (pbx_id, model_id, version) DO UPDATE SET phones = c.phones + excluded.phones;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO phone_version_counts AS c (pbx_id, model_id, version, phones)
    SELECT d.pbx_id, d.model_id, d.version, d.n
    FROM (
      SELECT pbx_id, model_id, coalesce(installed_version, '') AS version, -count(*)::int AS n
      FROM old_rows GROUP BY 1, 2, 3
    ) d
    WHERE EXISTS (SELECT 1 FROM pbxes p WHERE p.id = d.pbx_id)
    ORDER BY 1, 2, 3
    ON CONFLICT (pbx_id, model_id, version) DO UPDATE SET phones = c.phones + excluded.phones;
  ELSE
    INSERT INTO phone_version_counts AS c (pbx_id, model_id, version, phones)
    SELECT d.pbx_id, d.model_id, d.version, d.n
    FROM (
      SELECT pbx_id, model_id, version, sum(n)::int AS n
      FROM (
        SELECT pbx_id, model_id, coalesce(installed_version, '') AS version, 1 AS n FROM new_rows
        UNION ALL
        SELECT pbx_id, model_id, coalesce(installed_version, '') AS version, -1 AS n FROM old_rows
      ) changes
      GROUP BY 1, 2, 3
      HAVING sum(n) <> 0
    ) d
    WHERE EXISTS (SELECT 1 FROM pbxes p WHERE p.id = d.pbx_id)
    ORDER BY 1, 2, 3
    ON CONFLICT (pbx_id, model_id, version) DO UPDATE SET phones = c.phones + excluded.phones;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER phone_version_counts_insert AFTER INSERT ON phone_accounts
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION phone_version_counts_apply();
--> statement-breakpoint
CREATE TRIGGER phone_version_counts_update AFTER UPDATE ON phone_accounts
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION phone_version_counts_apply();
--> statement-breakpoint
CREATE TRIGGER phone_version_counts_delete AFTER DELETE ON phone_accounts
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION phone_version_counts_apply();
--> statement-breakpoint
INSERT INTO phone_version_counts (pbx_id, model_id, version, phones)
SELECT pbx_id, model_id, coalesce(installed_version, ''), count(*)::int FROM phone_accounts GROUP BY 1, 2, 3;
