// `timeWindow:` conditions, with fixed clocks: days, hours (end exclusive), windows wrapping
// midnight (they belong to the day they start on), and IANA time zones including DST changes.
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { applyWhen, callerContext, compileYaml, policyWhen, whenErrors } from '../../helpers/policy.js';

/** The condition `timeWindow: window`. */
const timeWindow = (window: string) => `{ timeWindow: ${window} }`;
const loadErrors = (window: string) => whenErrors(timeWindow(window));

async function apply(window: string, at: string) {
  const now = Date.parse(at);
  if (Number.isNaN(now)) throw new Error(`bad date ${at}`);
  return applyWhen(timeWindow(window), { now });
}

async function holds(window: string, at: string): Promise<boolean> {
  return (await apply(window, at)).outcome === 'applied';
}

// 2026-03-27 is a Friday, 2026-03-28 a Saturday, 2026-03-30 a Monday.
describe('timeWindow condition: days and hours (UTC)', () => {
  it('days: holds on the listed days only', async () => {
    const weekend = '{ days: [sat, sun] }';
    expect(await holds(weekend, '2026-03-28T12:00:00Z')).toBe(true);
    expect(await holds(weekend, '2026-03-29T23:59:00Z')).toBe(true);
    expect(await holds(weekend, '2026-03-27T23:59:00Z')).toBe(false);
    expect(await holds(weekend, '2026-03-30T00:00:00Z')).toBe(false);
  });

  it('hours: the start is inclusive, the end exclusive', async () => {
    const office = '{ hours: "09:00-17:00" }';
    expect(await holds(office, '2026-03-27T08:59:00Z')).toBe(false);
    expect(await holds(office, '2026-03-27T09:00:00Z')).toBe(true);
    expect(await holds(office, '2026-03-27T16:59:59Z')).toBe(true);
    expect(await holds(office, '2026-03-27T17:00:00Z')).toBe(false);
  });

  it('days and hours together, with a detail naming the local time', async () => {
    const window = '{ days: [mon, tue, wed, thu, fri], hours: "09:00-17:00" }';
    expect(await holds(window, '2026-03-27T10:00:00Z')).toBe(true);
    expect(await apply(window, '2026-03-28T10:00:00Z')).toEqual({
      outcome: 'condition_failed',
      failed: 'sat 10:00 UTC is outside mon,tue,wed,thu,fri 09:00-17:00 UTC',
    });
  });

  it('reads midnight as 00:00, not 24:00', async () => {
    expect(await holds('{ hours: "00:00-01:00" }', '2026-03-27T00:30:00Z')).toBe(true);
    expect(await holds('{ hours: "23:00-24:00" }', '2026-03-27T00:30:00Z')).toBe(false);
    expect(await holds('{ hours: "23:00-24:00" }', '2026-03-27T23:59:00Z')).toBe(true);
  });

  it('a window wrapping midnight belongs to the day it starts on', async () => {
    const fridayNight = '{ days: [fri], hours: "22:00-06:00" }';
    expect(await holds(fridayNight, '2026-03-27T22:00:00Z')).toBe(true); // Fri 22:00
    expect(await holds(fridayNight, '2026-03-27T23:30:00Z')).toBe(true); // Fri 23:30
    expect(await holds(fridayNight, '2026-03-28T00:00:00Z')).toBe(true); // Sat 00:00, still Friday's window
    expect(await holds(fridayNight, '2026-03-28T05:59:00Z')).toBe(true); // Sat 05:59
    expect(await holds(fridayNight, '2026-03-28T06:00:00Z')).toBe(false); // Sat 06:00, window over
    expect(await holds(fridayNight, '2026-03-27T05:00:00Z')).toBe(false); // Fri 05:00 belongs to Thursday's window
    expect(await holds(fridayNight, '2026-03-28T22:30:00Z')).toBe(false); // Sat 22:30 starts Saturday's window
    expect(await holds(fridayNight, '2026-03-27T21:59:00Z')).toBe(false); // Fri, before the window
  });

  it('a wrapping window on Saturday continues into Sunday (the week wraps too)', async () => {
    expect(await holds('{ days: [sat], hours: "20:00-02:00" }', '2026-03-29T01:00:00Z')).toBe(true); // Sun 01:00
    expect(await holds('{ days: [sun], hours: "20:00-02:00" }', '2026-03-30T01:00:00Z')).toBe(true); // Mon 01:00
    expect(await holds('{ days: [sun], hours: "20:00-02:00" }', '2026-03-29T01:00:00Z')).toBe(false); // Sun 01:00 is Saturday's
  });
});

describe('timeWindow condition: time zones', () => {
  it('reads hours in the given zone', async () => {
    // New York is UTC-5 in January and UTC-4 in July.
    const window = '{ hours: "09:00-17:00", timeZone: America/New_York }';
    expect(await holds(window, '2026-01-14T13:30:00Z')).toBe(false); // 08:30 EST
    expect(await holds(window, '2026-01-14T14:30:00Z')).toBe(true); // 09:30 EST
    expect(await holds(window, '2026-07-15T13:30:00Z')).toBe(true); // 09:30 EDT
    expect(await holds(window, '2026-07-15T21:30:00Z')).toBe(false); // 17:30 EDT
  });

  it('reads the day in the given zone', async () => {
    // Friday 20:00 UTC is already Saturday 05:00 in Tokyo.
    expect(await holds('{ days: [sat], timeZone: Asia/Tokyo }', '2026-03-27T20:00:00Z')).toBe(true);
    expect(await holds('{ days: [sat] }', '2026-03-27T20:00:00Z')).toBe(false);
  });

  it('follows daylight saving time in Europe/Berlin (CET → CEST on 2026-03-29)', async () => {
    const window = '{ days: [mon, tue, wed, thu, fri], hours: "09:00-17:00", timeZone: Europe/Berlin }';
    // Before the change Berlin is UTC+1.
    expect(await holds(window, '2026-03-27T07:30:00Z')).toBe(false); // Fri 08:30 CET
    expect(await holds(window, '2026-03-27T08:30:00Z')).toBe(true); // Fri 09:30 CET
    expect(await holds(window, '2026-03-27T15:30:00Z')).toBe(true); // Fri 16:30 CET
    // After it Berlin is UTC+2: the same UTC times are an hour later locally.
    expect(await holds(window, '2026-03-30T07:30:00Z')).toBe(true); // Mon 09:30 CEST
    expect(await holds(window, '2026-03-30T06:30:00Z')).toBe(false); // Mon 08:30 CEST
    expect(await holds(window, '2026-03-30T15:30:00Z')).toBe(false); // Mon 17:30 CEST
    expect(await apply(window, '2026-03-30T15:30:00Z')).toEqual({
      outcome: 'condition_failed',
      failed: 'mon 17:30 Europe/Berlin is outside mon,tue,wed,thu,fri 09:00-17:00 Europe/Berlin',
    });
  });

  it('follows daylight saving time in Europe/Berlin (CEST → CET on 2026-10-25)', async () => {
    const window = '{ hours: "09:00-17:00", timeZone: Europe/Berlin }';
    expect(await holds(window, '2026-10-23T07:30:00Z')).toBe(true); // Fri 09:30 CEST
    expect(await holds(window, '2026-10-26T07:30:00Z')).toBe(false); // Mon 08:30 CET
    expect(await holds(window, '2026-10-26T08:30:00Z')).toBe(true); // Mon 09:30 CET
  });

  it('defaults to UTC', async () => {
    expect(policyWhen(timeWindow('{ hours: "09:00-17:00" }')).rules[0]!.conditions[0]!.description).toBe('time in any day 09:00-17:00 UTC');
  });

  it('needs no caller: an anonymous rule may be limited to a window', async () => {
    const policy = compileYaml('service: s\nrules:\n  - { id: r, effect: allow, anonymous: true, when: [{ timeWindow: { hours: "09:00-17:00" } }] }\n');
    expect(await evaluatePolicy(policy, { method: 'GET', segments: [] }, callerContext({ now: Date.parse('2026-03-27T10:00:00Z') }))).toMatchObject({ allowed: true });
  });
});

describe('timeWindow condition: load errors', () => {
  it('rejects an unknown time zone, naming it', () => {
    expect(loadErrors('{ hours: "09:00-17:00", timeZone: Europe/Berlln }')).toEqual([
      'policy.yaml:3:84 [invalid_value] rules[0].when[0].timeWindow.timeZone: unknown time zone "Europe/Berlln" (use an IANA name like Europe/Berlin)',
    ]);
    expect(loadErrors('{ timeZone: CEST+2 }')[0]).toContain('unknown time zone "CEST+2"');
  });

  it.each(['09:00-25:00', '24:30-01:00', '09:60-10:00', '10:00-10:00'])('rejects hours "%s"', (hours) => {
    expect(loadErrors(`{ hours: "${hours}" }`)).toEqual([
      `policy.yaml:3:59 [invalid_value] rules[0].when[0].timeWindow.hours: "${hours}" is not a time range within one day`,
    ]);
  });

  it.each(['9-17', '09:00', '9:00-17:00', '09:00 - 17:00'])('rejects the hours format "%s"', (hours) => {
    expect(loadErrors(`{ hours: "${hours}" }`)).toEqual([
      'policy.yaml:3:59 [invalid_value] rules[0].when[0].timeWindow.hours: hours look like "09:00-18:00"',
    ]);
  });

  it('rejects an unknown day name', () => {
    expect(loadErrors('{ days: [monday] }')[0]).toMatch(/^policy\.yaml:3:59 \[invalid_value\] rules\[0\]\.when\[0\]\.timeWindow\.days\[0\]: /);
  });
});
