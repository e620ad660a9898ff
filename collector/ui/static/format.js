// Formatting of durations, rates and times for display. Times are shown in the viewer's time zone.

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';

// us formats a duration given in microseconds: "850 µs", "12.3 ms", "4.21 s", "2 min 5 s".
export function us(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (v < 1000) return `${Math.round(v)} µs`;
  if (v < 1e6) return `${trim(v / 1000)} ms`;
  if (v < 60e6) return `${trim(v / 1e6)} s`;
  const min = Math.floor(v / 60e6);
  return `${min} min ${Math.round((v - min * 60e6) / 1e6)} s`;
}

// interval names a series' step: "minute", "5 min", "hour", "3 h", "day".
export function interval(seconds) {
  if (seconds === 60) return 'minute';
  if (seconds < 3600) return `${seconds / 60} min`;
  if (seconds === 3600) return 'hour';
  if (seconds < 86400) return `${seconds / 3600} h`;
  return seconds === 86400 ? 'day' : `${seconds / 86400} d`;
}

// ms formats a duration given in milliseconds.
export function ms(v) {
  return us(v * 1000);
}

function trim(x) {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1).replace(/\.0$/, '');
  return x.toFixed(2).replace(/\.?0+$/, '');
}

// rate formats a fraction as a percentage; null shows as a dash.
export function rate(v) {
  if (v === null || v === undefined) return '–';
  if (v === 0) return '0 %';
  const p = v * 100;
  return `${p < 0.1 ? p.toFixed(2) : p < 10 ? p.toFixed(1) : p.toFixed(0)} %`;
}

// perMinute formats a throughput.
export function perMinute(v) {
  if (!v) return '0 /min';
  if (v >= 100) return `${Math.round(v)} /min`;
  if (v >= 1) return `${v.toFixed(1).replace(/\.0$/, '')} /min`;
  return `${v.toFixed(2)} /min`;
}

export function count(n) {
  return new Intl.NumberFormat().format(n);
}

// when formats an RFC 3339 time (or a Date) in the viewer's time zone.
export function when(t) {
  return dateTime.format(t instanceof Date ? t : new Date(t));
}

// axisTime formats a chart tick: the time of day, with the day when the range spans days.
export function axisTime(d, spanMs) {
  return spanMs > 36 * 3600e3 ? dayTime.format(d) : timeOnly.format(d);
}

// ago formats how long before now a time was: "5 min ago".
export function ago(t) {
  const s = Math.max(0, (Date.now() - new Date(t).getTime()) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
