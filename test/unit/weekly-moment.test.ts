import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DOWNLOAD_WINDOW_START_MINUTE,
  drawWeeklyCheckMoment,
  formatTimeOfDay,
  LATEST_WEEKLY_CHECK_MINUTE,
  parseTimeOfDay,
} from '../../domain/weekly-moment.ts';

describe('weekly check moment (R9, R10)', () => {
  it('R9: takes day and minute from the random source', () => {
    const asked: number[] = [];
    const values = [4, 615];
    const moment = drawWeeklyCheckMoment((bound) => {
      asked.push(bound);
      return values.shift()!;
    });
    expect(moment).toEqual({ day: 4, minute: 615 });
    expect(asked).toEqual([7, LATEST_WEEKLY_CHECK_MINUTE]);
  });

  it('R10: every possible draw lies before the 20:00 download window of the same day', () => {
    const last = drawWeeklyCheckMoment((bound) => bound - 1);
    expect(last).toEqual({ day: 6, minute: 18 * 60 - 1 });
    expect(last.minute).toBeLessThan(DOWNLOAD_WINDOW_START_MINUTE);
    expect(drawWeeklyCheckMoment(() => 0)).toEqual({ day: 0, minute: 0 });
  });

  it('R9: crypto draws stay in range and spread over the week', () => {
    const days = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const m = drawWeeklyCheckMoment(randomInt);
      expect(m.day).toBeGreaterThanOrEqual(0);
      expect(m.day).toBeLessThanOrEqual(6);
      expect(m.minute).toBeGreaterThanOrEqual(0);
      expect(m.minute).toBeLessThan(LATEST_WEEKLY_CHECK_MINUTE);
      days.add(m.day);
    }
    expect(days.size).toBe(7);
  });

  it('R9: a broken random source is refused, not stored', () => {
    expect(() => drawWeeklyCheckMoment(() => 7)).toThrow(/day 7/);
    expect(() => drawWeeklyCheckMoment((b) => (b === 7 ? 1 : 1080))).toThrow(/minute 1080/);
  });
});

describe('time of day (R11)', () => {
  it.each([
    ['00:00', 0],
    ['03:00', 180],
    ['23:59', 1439],
  ])('%s ↔ %i', (text, minute) => {
    expect(parseTimeOfDay(text)).toBe(minute);
    expect(formatTimeOfDay(minute)).toBe(text);
  });

  it.each(['24:00', '3:00', '12:60', '12:5', 'noon', ''])('rejects %j', (text) => {
    expect(parseTimeOfDay(text)).toBeUndefined();
  });
});
