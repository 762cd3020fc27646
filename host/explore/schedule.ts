/**
 * The printed form of a schedule: the task that takes each step, in order, one entry per step
 * (forced steps included, so a schedule is the whole run), comma-separated, with runs of the same
 * task written `name*count`. `create*3,verify,create*2` is create, create, create, verify,
 * create, create. Spaces around entries are ignored; the empty string is the empty schedule.
 */
import { ExploreError } from './scenario.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A schedule that does not fit a scenario, or does not parse. `step` is the 0-based step where
 *  it diverged (for a parse error, the 0-based entry). */
export class ScheduleError extends ExploreError {
  override readonly name = 'ScheduleError';
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
  }
}

export function isTaskName(name: string): boolean {
  return NAME.test(name);
}

export function formatSchedule(choices: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < choices.length; ) {
    let j = i + 1;
    while (j < choices.length && choices[j] === choices[i]) j++;
    out.push(j - i === 1 ? choices[i]! : `${choices[i]}*${j - i}`);
    i = j;
  }
  return out.join(',');
}

export function parseSchedule(text: string): string[] {
  const out: string[] = [];
  if (text.trim() === '') return out;
  const entries = text.split(',');
  for (let k = 0; k < entries.length; k++) {
    const entry = entries[k]!.trim();
    const star = entry.indexOf('*');
    const name = star < 0 ? entry : entry.slice(0, star).trim();
    const countText = star < 0 ? '1' : entry.slice(star + 1).trim();
    if (!isTaskName(name)) {
      throw new ScheduleError(`schedule entry ${k + 1} "${entry}": expected a task name (letters, digits, _ - .) optionally followed by *count`, out.length);
    }
    if (!/^[1-9][0-9]{0,6}$/.test(countText)) {
      throw new ScheduleError(`schedule entry ${k + 1} "${entry}": the count after * must be a whole number from 1 to 9999999`, out.length);
    }
    for (let n = Number(countText); n > 0; n--) out.push(name);
  }
  return out;
}
