// The `tracing:` settings key: OpenTelemetry traces exported with OTLP. Every key is optional and
// has no zod default on purpose: a key left out of the file falls back to the standard OTEL_*
// environment variable, then to the default (config.ts resolves them; README "Tracing" lists
// the defaults). A zod default would hide the environment.
//   tracing:
//     endpoint: http://otel-collector:4318     # http/protobuf: /v1/traces is added to a bare URL
//     protocol: http/protobuf                  # or grpc
//     sampler: { type: parentbased_traceidratio, ratio: 0.1 }
import { z } from 'zod';
import { durationMs } from '../config/duration.js';

/** The OTEL_TRACES_SAMPLER names keycard understands (the OpenTelemetry SDK's built-in samplers). */
export const SAMPLER_TYPES = ['parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio', 'always_on', 'always_off', 'traceidratio'] as const;
export type SamplerType = (typeof SAMPLER_TYPES)[number];

/** The OTLP transports keycard ships an exporter for (http/json is not one of them). */
export const OTLP_PROTOCOLS = ['grpc', 'http/protobuf'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export function usesRatio(type: SamplerType): boolean {
  return type.endsWith('traceidratio');
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const samplerSchema = z
  .strictObject({
    type: z.enum(SAMPLER_TYPES),
    /** Share of root requests (no parent) sampled, 0..1; only for the *traceidratio samplers. */
    ratio: z.number().min(0).max(1).optional(),
  })
  .superRefine((sampler, ctx) => {
    if (sampler.ratio !== undefined && !usesRatio(sampler.type)) {
      ctx.addIssue({ code: 'custom', message: `ratio applies only to the traceidratio samplers, not ${sampler.type}`, path: ['ratio'] });
    }
  });

export const tracingSettingsSchema = z
  .strictObject({
    /** Default true when the `tracing:` key is present; false turns tracing off whatever the environment says. */
    enabled: z.boolean().optional(),
    /** The collector's OTLP endpoint (http or https). */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    protocol: z.enum(OTLP_PROTOCOLS).optional(),
    /** Sent with every export (e.g. a collector's API key); merged over OTEL_EXPORTER_OTLP_HEADERS. */
    headers: z.record(z.string().regex(HEADER_NAME, 'not an HTTP header name'), z.string()).optional(),
    serviceName: z.string().min(1).optional(),
    sampler: samplerSchema.optional(),
    /** Finished spans waiting for export at most; past it new spans are dropped (and counted). */
    maxQueueSize: z.number().int().positive().optional(),
    maxExportBatchSize: z.number().int().positive().optional(),
    /** How long spans wait to fill a batch before it is sent anyway. */
    scheduledDelay: durationMs.optional(),
    /** How long one export may take before it is given up (its spans counted as dropped). */
    exportTimeout: durationMs.refine((ms) => ms >= 1, 'at least 1ms').optional(),
  })
  .superRefine((tracing, ctx) => {
    if (tracing.maxExportBatchSize !== undefined && tracing.maxQueueSize !== undefined && tracing.maxExportBatchSize > tracing.maxQueueSize) {
      ctx.addIssue({ code: 'custom', message: `must not exceed maxQueueSize (${tracing.maxQueueSize})`, path: ['maxExportBatchSize'] });
    }
  });

export type TracingSettings = z.infer<typeof tracingSettingsSchema>;
