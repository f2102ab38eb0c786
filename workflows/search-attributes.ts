/**
 * Search attributes that make rollouts findable in the Temporal UI
 * (e.g. `PbxId = "acme" and FirmwarePhase = "rollout"`). They are registered on the dev server at start
 * (`--search-attribute`) and must be registered on a production cluster once (see README).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const PbxIdAttr = defineSearchAttributeKey('PbxId', SearchAttributeType.KEYWORD);
export const PhoneModelAttr = defineSearchAttributeKey('PhoneModel', SearchAttributeType.KEYWORD);
export const FirmwarePhaseAttr = defineSearchAttributeKey('FirmwarePhase', SearchAttributeType.KEYWORD);
export const TargetVersionAttr = defineSearchAttributeKey('TargetVersion', SearchAttributeType.KEYWORD);
/** A rollout's word (domain/rollout.ts): `RolloutStatus = "completed-with-failures"` finds the ones with failed phones. */
export const RolloutStatusAttr = defineSearchAttributeKey('RolloutStatus', SearchAttributeType.KEYWORD);

/** Name → type, as the dev server's `--search-attribute` flag and the test environments want them. */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword'> = {
  PbxId: 'Keyword',
  PhoneModel: 'Keyword',
  FirmwarePhase: 'Keyword',
  TargetVersion: 'Keyword',
  RolloutStatus: 'Keyword',
};

/** Every key, for the environments that take keys rather than names. */
export const SEARCH_ATTRIBUTE_KEYS = [
  PbxIdAttr,
  PhoneModelAttr,
  FirmwarePhaseAttr,
  TargetVersionAttr,
  RolloutStatusAttr,
];
