import { Injectable } from '@nestjs/common';
import { EventStore } from '@lib/event-store/event-store.port';
import { Conflict } from '@lib/platform/errors';
import { projectionIdOf } from '@lib/views/projection';
import { ViewsNotBuilt, ViewStore } from '@lib/views/view-store.port';
import { DirectoryReader } from '@lib/programs/directory.reader';
import { AUDITED_INDEXES, compareAffiliate, compareProgram, Mismatch, StatsAuditFold } from './stats.audit';
import { AffiliateStatsDoc, ProgramTotalsDoc, SortKey, statsKeys, statsProjection } from './stats.projection';

export interface AuditReport {
  programId: string;
  /** The log position the last comparison was made at. */
  position: number;
  checkedAt: string;
  affiliatesChecked: number;
  mismatches: Mismatch[];
}

const CHUNK = 250;

/**
 * Recomputes every affiliate's balances and counts of a program from the event store and compares them
 * with the stats views. The views keep moving meanwhile, so every chunk of affiliates is read together with
 * the checkpoint it reflects (one MULTI), and the event fold is brought to exactly that checkpoint before
 * comparing: each comparison is between the events up to P and the views at P. Off the request path of the
 * dashboard: it reads the whole log.
 */
export async function auditProgram(store: EventStore, views: ViewStore, programId: string, now: Date): Promise<AuditReport> {
  const { active: ns } = await views.registry(projectionIdOf(statsProjection));
  if (!ns) throw new ViewsNotBuilt(statsProjection.name);
  const fold = new StatsAuditFold(programId);
  const advance = async (to: number) => {
    while (fold.position < to) {
      const batch = await store.readAll({ after: fold.position, maxCount: 5000 });
      if (batch.length === 0) break;
      for (const e of batch) if (e.position <= to) fold.apply(e);
      if (batch[batch.length - 1].position >= to) fold.position = to;
    }
  };
  const readAt = async (docKeys: string[], scoreKeys: [string, string][]) => {
    const read = await views.readConsistent(ns, docKeys.map((k) => ns + k), scoreKeys.map(([k, m]) => [ns + k, m] as [string, string]));
    // A checkpoint that went back means the namespace was swapped out and deleted by a rebuild meanwhile.
    if (read.checkpoint < fold.position) throw new Conflict('the stats views were rebuilt while the audit ran; run it again');
    await advance(read.checkpoint);
    return read;
  };

  await advance(await views.checkpoint(ns));
  const ids = fold.enrolled();
  const mismatches: Mismatch[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const scoreKeys: [string, string][] = chunk.flatMap((id) =>
      AUDITED_INDEXES.map((index) => [index === 'active' ? statsKeys.active(programId) : statsKeys.rank(programId, index as SortKey), id] as [string, string]),
    );
    const read = await readAt(
      chunk.map((id) => statsKeys.affiliate(id)),
      scoreKeys,
    );
    chunk.forEach((id, j) => {
      const scores = Object.fromEntries(AUDITED_INDEXES.map((index, k) => [index, read.scores[j * AUDITED_INDEXES.length + k]])) as Record<
        (typeof AUDITED_INDEXES)[number],
        number | null
      >;
      mismatches.push(...compareAffiliate(id, fold.expectedOf(id)!, read.docs[j] as AffiliateStatsDoc | null, scores, now));
    });
  }
  const program = await readAt([statsKeys.program(programId)], []);
  mismatches.push(...compareProgram(program.docs[0] as ProgramTotalsDoc | null, fold));
  return { programId, position: fold.position, checkedAt: now.toISOString(), affiliatesChecked: ids.length, mismatches };
}

@Injectable()
export class AuditService {
  constructor(
    private readonly store: EventStore,
    private readonly views: ViewStore,
    private readonly directory: DirectoryReader,
  ) {}

  async audit(programId: string, now: Date): Promise<AuditReport> {
    await this.directory.requireProgram(programId);
    return auditProgram(this.store, this.views, programId, now);
  }
}
