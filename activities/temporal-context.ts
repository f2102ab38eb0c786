/**
 * Small bridges to the Temporal activity context, so the same functions also run outside a worker
 * (scripts, the benchmark): no heartbeats and no cancellation there.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';

/** The current activity's context, or null when not running inside an activity. */
export function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}

/** Validates an activity input; bad input is a non-retryable failure naming the problem (retrying cannot fix it). */
export function parseActivityInput<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  activity: string,
): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`)
    .join('; ');
  throw ApplicationFailure.nonRetryable(`${activity}: invalid input: ${problems}`, 'InvalidInput');
}
