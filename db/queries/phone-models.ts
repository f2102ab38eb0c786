import { asc, inArray } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { phoneModels } from '../schema.ts';

export type PhoneModelRow = typeof phoneModels.$inferSelect;

export async function listPhoneModels(db: Db): Promise<PhoneModelRow[]> {
  return db.select().from(phoneModels).orderBy(asc(phoneModels.vendor), asc(phoneModels.model));
}

export async function getPhoneModels(db: Db, ids: string[]): Promise<PhoneModelRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(phoneModels).where(inArray(phoneModels.id, ids));
}
