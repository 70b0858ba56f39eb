// A MouseLight sample is named by its date, YYYY-MM-DD; everything the recipe builds is keyed on it.
import { FerryError } from '../../errors.ts';

/** The reason `text` is not a sample date, or undefined when it is one. */
export function sampleDateProblem(text: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return `"${text}" is not a date in the form YYYY-MM-DD`;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return `${text} is not a day of the calendar`;
  return undefined;
}

export function checkSampleDate(text: string): string {
  const problem = sampleDateProblem(text);
  if (problem) throw new FerryError(`sample ${problem}`, { hint: 'give the sample as its date, e.g. --sample 2023-05-10' });
  return text;
}

/** Month and day without the dash, as the facility's cluster job names use it (reg0510). */
export function mmdd(date: string): string {
  return date.slice(5, 7) + date.slice(8, 10);
}
