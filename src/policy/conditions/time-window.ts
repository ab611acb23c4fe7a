// `timeWindow: {days: [mon, tue, wed, thu, fri], hours: "09:00-18:00", timeZone: Europe/Berlin}`.
// Hours may wrap past midnight ("22:00-06:00"); the end is exclusive.
import { z } from 'zod';
import type { CompileContext, Condition } from './types.js';

export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
type Day = (typeof DAYS)[number];

export const timeWindowSchema = z.strictObject({
  days: z.array(z.enum(DAYS)).min(1).optional(),
  hours: z.string().regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/, 'hours look like "09:00-18:00"').optional(),
  timeZone: z.string().min(1).default('UTC'),
});

export type TimeWindowSpec = z.infer<typeof timeWindowSchema>;

function minutes(text: string): number | undefined {
  const [h, m] = text.split(':').map(Number);
  return h! <= 24 && m! < 60 && h! * 60 + m! <= 24 * 60 ? h! * 60 + m! : undefined;
}

export function timeWindowCondition(spec: TimeWindowSpec, context: CompileContext): Condition | undefined {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone: spec.timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  } catch {
    context.issue('invalid_value', ['timeZone'], `unknown time zone "${spec.timeZone}" (use an IANA name like Europe/Berlin)`);
    return undefined;
  }
  const [fromText, toText] = spec.hours?.split('-') ?? ['00:00', '24:00'];
  const from = minutes(fromText!);
  const to = minutes(toText!);
  if (from === undefined || to === undefined || from === to) {
    context.issue('invalid_value', ['hours'], `"${spec.hours}" is not a time range within one day`);
    return undefined;
  }
  const days = new Set<Day>(spec.days ?? DAYS);
  const window = `${spec.days?.join(',') ?? 'any day'} ${fromText}-${toText} ${spec.timeZone}`;
  return {
    kind: 'timeWindow',
    category: 'plain',
    description: `time in ${window}`,
    needsIdentity: false,
    evaluate({ now }) {
      const parts = Object.fromEntries(format.formatToParts(now).map((part) => [part.type, part.value]));
      const day = String(parts.weekday).toLowerCase().slice(0, 3) as Day;
      const minute = Number(parts.hour) * 60 + Number(parts.minute);
      // A window that wraps midnight belongs to the day it starts on.
      const inHours = from < to ? minute >= from && minute < to : minute >= from || minute < to;
      const windowDay = from > to && minute < to ? DAYS[(DAYS.indexOf(day) + 6) % 7]! : day;
      return inHours && days.has(windowDay)
        ? { ok: true }
        : { ok: false, detail: `${day} ${parts.hour}:${parts.minute} ${spec.timeZone} is outside ${window}` };
    },
  };
}
