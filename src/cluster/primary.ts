// The primary of `keycard serve --workers N` (N > 1). It decides nothing itself: it forks N
// workers, each a whole keycard, that share the gRPC (and HTTP check) listening ports through
// node:cluster (the primary accepts connections and hands them out in turn); restarts a worker that
// dies, backing off while it keeps dying; serves the admin port with the workers' metrics added up
// and their readiness (and the internal token's public keys, read from the same key file the
// workers sign with); keeps the decision explorer's ring, fed by the workers, and serves it (a
// hypothetical request is decided by a worker: the primary loads no policies); and on SIGTERM lets
// every worker finish its in-flight Checks.
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { checkStartupSecrets } from '../authn/credentials/startup-secrets.js';
import { publicKeySet } from '../authn/internal-token-key.js';
import type { Settings } from '../config/settings.js';
import { serveExplorer, type ServedExplorer } from '../explorer/keycard-explorer.js';
import { MASK_KEY_ENV, SubjectMasker } from '../explorer/mask.js';
import type { TryAnswer, TryInput } from '../explorer/try-request.js';
import type { Logger } from '../log/logger.js';
import { AdminServer, type Readiness } from '../server/admin-server.js';
import { removeStaleSocket } from '../server/listen.js';
import { EXPLORER_RECORDS_PER_MESSAGE, isAnswer, isExplorerRecords, isListening, type AnswerMessage, type QuestionMessage } from './messages.js';

/** The first restart waits this long; each further crash in a row doubles it, up to RESTART_MAX_MS. */
export const RESTART_BASE_MS = 100;
export const RESTART_MAX_MS = 10_000;
/** A worker that ran this long before it died starts a new series of restarts (no backoff). */
const STABLE_MS = 10_000;
/** How long the primary waits for a worker to answer a question (readiness, metrics). */
const ANSWER_TIMEOUT_MS = 2_000;
/** After the grace period, workers still running are killed this much later. */
const KILL_MARGIN_MS = 5_000;

interface Slot {
  readonly number: number;
  worker?: Worker;
  listening: boolean;
  startedAt: number;
  /** Exits in a row that came before the worker had run STABLE_MS. */
  crashes: number;
  restartTimer?: NodeJS.Timeout;
}

export interface ClusterPorts {
  readonly grpc: number;
  readonly admin: number;
  readonly http?: number;
  readonly authzen?: number;
  readonly ready: boolean;
}

export class ClusterPrimary {
  private readonly slots: Slot[];
  /** The primary's own metrics, added to the workers'. */
  private readonly registry = new Registry();
  private readonly restarts = new Counter({
    name: 'keycard_worker_restarts_total',
    help: 'Worker processes restarted after they exited unexpectedly.',
    registers: [this.registry],
  });
  private readonly admin: AdminServer;
  private started = false;
  private stopping = false;
  private ports: { grpc: number; http?: number; authzen?: number } | undefined;
  private nextQuestion = 0;
  private readonly waiting = new Map<number, (answer: AnswerMessage) => void>();
  /** Settings `explorer.enabled`: the ring the workers' records go to, served on the admin port. */
  private readonly explorer: ServedExplorer | undefined;
  /** Environment of every worker: the explorer's subject mask key, so all workers mask alike. */
  private readonly workerEnv: Record<string, string> = {};
  private nextTryWorker = 0;

  constructor(
    private readonly settings: Settings,
    workers: number,
    private readonly logger: Logger,
  ) {
    this.slots = Array.from({ length: workers }, (_, i) => ({ number: i + 1, listening: false, startedAt: 0, crashes: 0 }));
    const slots = this.slots;
    new Gauge({
      name: 'keycard_workers',
      help: 'Worker processes, by state: listening, or starting (forked or restarting, not listening yet).',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const listening = slots.filter((slot) => slot.listening).length;
        this.set({ state: 'listening' }, listening);
        this.set({ state: 'starting' }, slots.length - listening);
      },
    });
    // Read before any worker is forked: a bad key file or a missing secret is a startup error
    // (ConfigError) here, once, rather than in every worker.
    const jwks = settings.internalToken && publicKeySet(settings.internalToken);
    checkStartupSecrets(settings);
    if (settings.explorer.enabled) {
      const masker = settings.explorer.maskSubjects ? new SubjectMasker(randomBytes(32)) : undefined;
      if (masker) this.workerEnv[MASK_KEY_ENV] = masker.keyHex;
      this.explorer = serveExplorer({ settings: settings.explorer, settingsFile: settings.file, adminListen: settings.admin.listen, masker, tryRequest: (input) => this.tryInWorker(input) });
      this.explorer.adminToken.load();
    }
    this.admin = new AdminServer({
      listen: settings.admin.listen,
      registry: { contentType: this.registry.contentType, metrics: () => this.metrics() },
      readiness: () => this.readiness(),
      liveness: () => this.liveness(),
      jwks: () => jwks,
      ...(this.explorer && { explorer: this.explorer.routes }),
    });
  }

  /** Forks the workers and resolves once all of them listen; fails if one exits before. */
  async start(): Promise<ClusterPorts> {
    // Workers share these listeners through this process; a stale socket file goes once, here.
    for (const socket of [this.settings.grpc.listen.socket, this.settings.http?.listen.socket, this.settings.authzen?.listen.socket]) if (socket !== undefined) removeStaleSocket(socket);
    try {
      await Promise.all(this.slots.map((slot) => this.fork(slot)));
    } catch (error) {
      this.stopping = true;
      await this.stopWorkers();
      throw error;
    }
    this.started = true;
    const admin = await this.admin.start();
    const { grpc, http, authzen } = this.ports!;
    return { grpc, admin, ...(http !== undefined && { http }), ...(authzen !== undefined && { authzen }), ready: (await this.readiness()).ready };
  }

  /** Graceful stop: every worker finishes its in-flight Checks. True when all exited with 0. */
  async stop(): Promise<boolean> {
    this.stopping = true;
    for (const slot of this.slots) clearTimeout(slot.restartTimer);
    const clean = await this.stopWorkers();
    await this.admin.stop();
    return clean;
  }

  private fork(slot: Slot): Promise<void> {
    const worker = cluster.fork(this.workerEnv);
    slot.worker = worker;
    slot.listening = false;
    slot.startedAt = Date.now();
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: unknown) => {
        if (isAnswer(message)) {
          this.waiting.get(message.id)?.(message);
        } else if (isExplorerRecords(message)) {
          if (this.explorer && message.records.length <= EXPLORER_RECORDS_PER_MESSAGE) for (const record of message.records) this.explorer.ring.add(record);
        } else if (isListening(message)) {
          this.ports ??= { grpc: message.grpcPort, ...(message.httpPort !== undefined && { http: message.httpPort }), ...(message.authzenPort !== undefined && { authzen: message.authzenPort }) };
          if (message.grpcPort !== this.ports.grpc) this.logger.error({ worker: slot.number, port: message.grpcPort }, 'worker listens on another port');
          slot.listening = true;
          resolve();
        }
      });
      worker.once('exit', (code, signal) => {
        slot.worker = undefined;
        slot.listening = false;
        reject(new Error(`worker ${slot.number} exited (${signal ?? `code ${code}`}) before it listened`));
        this.exited(slot, worker, code, signal);
      });
    });
  }

  private exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (this.stopping || !this.started) return;
    if (Date.now() - slot.startedAt >= STABLE_MS) slot.crashes = 0;
    const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** slot.crashes);
    slot.crashes++;
    this.restarts.inc();
    this.logger.error({ worker: slot.number, pid: worker.process.pid, code, signal, restartInMs: delay }, 'worker exited unexpectedly; restarting it');
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      // A restarted worker that dies before listening comes back through exited() again.
      if (!this.stopping) this.fork(slot).catch(() => undefined);
    }, delay);
  }

  /** SIGTERM to every worker (each finishes its in-flight Checks), SIGKILL to any still running long after the grace period. */
  private async stopWorkers(): Promise<boolean> {
    const workers = this.slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
    const exits = workers.map(
      (worker) =>
        new Promise<boolean>((resolve) => {
          if (worker.isDead()) resolve(worker.process.exitCode === 0);
          else worker.once('exit', (code) => resolve(code === 0));
        }),
    );
    for (const worker of workers) if (!worker.isDead()) worker.process.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const worker of workers) if (!worker.isDead()) worker.process.kill('SIGKILL');
    }, this.settings.shutdown.gracePeriod + KILL_MARGIN_MS);
    const results = await Promise.all(exits);
    clearTimeout(killer);
    return results.every(Boolean);
  }

  private listeningWorkers(): { slot: Slot; worker: Worker }[] {
    return this.slots.flatMap((slot) => (slot.listening && slot.worker?.isConnected() ? [{ slot, worker: slot.worker }] : []));
  }

  private ask(worker: Worker, question: Omit<QuestionMessage, 'type' | 'id'>): Promise<AnswerMessage | undefined> {
    const id = this.nextQuestion++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), ANSWER_TIMEOUT_MS);
      const done = (answer: AnswerMessage | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(answer);
      };
      this.waiting.set(id, done);
      const message: QuestionMessage = { type: 'keycard:question', id, ...question };
      worker.send(message, (error: Error | null) => {
        if (error) done(undefined);
      });
    });
  }

  /** Ready when at least one worker listens and every listening worker is ready. */
  private async readiness(): Promise<Readiness> {
    const listening = this.listeningWorkers();
    if (listening.length === 0) return { ready: false, problems: ['no worker is listening'] };
    const answers = await Promise.all(listening.map(({ worker }) => this.ask(worker, { question: 'readiness' })));
    const problems = new Set<string>();
    const warnings = new Set<string>();
    answers.forEach((answer, i) => {
      if (!answer?.readiness) problems.add(`worker ${listening[i]!.slot.number}: no answer`);
      else for (const problem of answer.readiness.problems) problems.add(problem);
      for (const warning of answer?.readiness?.warnings ?? []) warnings.add(warning);
    });
    return { ready: problems.size === 0, problems: [...problems], ...(warnings.size > 0 && { warnings: [...warnings] }) };
  }

  /**
   * The explorer's "try a request", decided by a worker in turn: the workers hold the policies now
   * loaded and the store; the primary loads neither (a second copy of a large policy set would
   * double its memory, and could differ from what the workers enforce).
   */
  private async tryInWorker(input: TryInput): Promise<TryAnswer> {
    const listening = this.listeningWorkers();
    if (listening.length === 0) return { ok: false, status: 503, error: 'no worker is listening' };
    const { worker } = listening[this.nextTryWorker++ % listening.length]!;
    const answer = await this.ask(worker, { question: 'try', tryInput: input });
    return answer?.tried ?? { ok: false, status: 503, error: 'the worker did not answer in time' };
  }

  /** Alive while at least one worker process runs (the primary restarts the others). */
  private liveness(): Readiness {
    const running = this.slots.some((slot) => slot.worker && !slot.worker.isDead());
    return running ? { ready: true, problems: [] } : { ready: false, problems: ['no worker process is running'] };
  }

  /**
   * Every listening worker's metrics added up (counters and histograms summed, per prom-client's
   * aggregators), plus the primary's own. A worker that does not answer fails the scrape rather
   * than make the sums drop.
   */
  private async metrics(): Promise<string> {
    const listening = this.listeningWorkers();
    const answers = await Promise.all(listening.map(({ worker }) => this.ask(worker, { question: 'metrics' })));
    const missing = answers.findIndex((answer) => !answer?.metrics);
    if (missing >= 0) throw new Error(`worker ${listening[missing]!.slot.number} did not send its metrics`);
    const all = [...answers.map((answer) => answer!.metrics!), await this.registry.getMetricsAsJSON()];
    return AggregatorRegistry.aggregate(all).metrics();
  }
}
