/**
 * A worker registers the search attributes its workflows set before it runs them: on a namespace without them,
 * every rollout start would be refused by the server ("BadSearchAttributes") and the PBX's workflow would stall.
 */

import { randomUUID } from 'node:crypto';
import { msToTs } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { ensureSearchAttributes } from '../../lib/temporal.ts';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.ts';
import { until } from '../support/until.ts';

describe('search attributes at worker start', () => {
  it('adds the missing ones on a fresh namespace, and leaves them alone the next time', async () => {
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    try {
      const namespace = `sa-${randomUUID().slice(0, 8)}`;
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('1 day'),
      });
      const attributes = async () =>
        Object.keys(
          (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {},
        );
      await until(
        'the namespace to be known',
        () =>
          attributes()
            .then(() => true)
            .catch(() => false),
        Boolean,
      );
      expect(await attributes()).not.toContain('RolloutStatus');
      const said: unknown[] = [];
      await ensureSearchAttributes(connection, namespace, { info: (o) => said.push(o) });
      expect(await attributes()).toEqual(expect.arrayContaining(Object.keys(SEARCH_ATTRIBUTES)));
      expect(said).toHaveLength(1);
      await ensureSearchAttributes(connection, namespace, { info: (o) => said.push(o) });
      expect(said).toHaveLength(1);
    } finally {
      await connection.close();
    }
  });
});
