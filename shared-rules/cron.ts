/**
 * Cloud Scheduler's unix cron dialect, checked before anything is created: the spec refuses a bad schedule in a
 * stack file with its key, and the ScheduledJob component refuses one passed to it directly.
 */

const CRON_FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC" },
  { name: "day of week", min: 0, max: 7, names: "SUN|MON|TUE|WED|THU|FRI|SAT" },
] as const;

/** Why `schedule` is not a five-field unix cron expression Cloud Scheduler accepts, or undefined when it is. */
export function cronProblem(schedule: string): string | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) {
    return `a cron schedule has 5 fields (minute hour day-of-month month day-of-week), "${schedule}" has ${fields.length}`;
  }
  for (const [i, field] of fields.entries()) {
    const spec = CRON_FIELDS[i];
    const value = "names" in spec ? `(\\d+|${spec.names})` : "(\\d+)";
    // Each comma-separated item is `*`, a value or a range, optionally with a `/step`.
    const item = new RegExp(`^(\\*|${value}(-${value})?)(/[1-9]\\d*)?$`, "i");
    for (const part of field.split(",")) {
      const values = (part.split("/")[0].match(/\d+/g) ?? []).map(Number);
      if (!item.test(part) || values.some((n) => n < spec.min || n > spec.max)) {
        return `the ${spec.name} field "${field}" of "${schedule}" is not valid (values ${spec.min}-${spec.max})`;
      }
    }
  }
  return undefined;
}
