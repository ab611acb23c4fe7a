// keycard_ready: what /readyz answers, as a Prometheus gauge (1 ready, 0 not), so that an alert
// can see it. The admin server adds it to every scrape because readiness is known there in both
// modes: a keycard's own, and with --workers the primary's (every listening worker ready).

export const READY_METRIC = 'keycard_ready';

/** The gauge in the Prometheus text format, appended to the registry's text. */
export function withReadinessMetric(metrics: string, ready: boolean): string {
  const separator = metrics === '' || metrics.endsWith('\n') ? '' : '\n';
  return (
    `${metrics}${separator}# HELP ${READY_METRIC} 1 when /readyz answers 200 (policies, keys and the store ready), else 0.\n` +
    `# TYPE ${READY_METRIC} gauge\n${READY_METRIC} ${ready ? 1 : 0}\n`
  );
}
