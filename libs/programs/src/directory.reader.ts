import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '@lib/platform/config';
import { NotFound } from '@lib/platform/errors';
import { sha256 } from '@lib/platform/ids';
import { APP_CONFIG } from '@lib/platform/tokens';
import { ViewReader } from '@lib/views/view.reader';
import { DirectoryAffiliate, directoryKeys, directoryProjection, DirectoryStorefront } from './directory.projection';
import { ProgramState, settingsAt } from './program.state';
import { ProgramSettings } from './programs.events';

/** Lookups the edge and the API make on every request: programs, storefront keys, codes, affiliates. */
@Injectable()
export class DirectoryReader {
  constructor(private readonly views: ViewReader, @Inject(APP_CONFIG) private readonly config: AppConfig) {}

  program(programId: string): Promise<ProgramState | null> {
    return this.views.get<ProgramState>(directoryProjection, directoryKeys.program(programId));
  }

  async requireProgram(programId: string): Promise<ProgramState> {
    const program = await this.program(programId);
    if (!program) throw new NotFound(`program ${programId} does not exist`);
    return program;
  }

  async settingsNow(programId: string, now: Date): Promise<ProgramSettings | null> {
    const program = await this.program(programId);
    return program ? settingsAt(program, now.toISOString()).settings : null;
  }

  async programIds(): Promise<string[]> {
    const entries = await this.views.zrange(directoryProjection, directoryKeys.programs, { order: 'asc', limit: 10_000 });
    return entries.map((e) => e.member);
  }

  storefrontByKey(apiKey: string): Promise<DirectoryStorefront | null> {
    return this.views.get<DirectoryStorefront>(directoryProjection, directoryKeys.apiKey(sha256(apiKey)));
  }

  async affiliateByCode(code: string): Promise<DirectoryAffiliate | null> {
    const ref = await this.views.get<{ affiliateId: string }>(directoryProjection, directoryKeys.code(code));
    return ref ? this.affiliate(ref.affiliateId) : null;
  }

  affiliate(affiliateId: string): Promise<DirectoryAffiliate | null> {
    return this.views.get<DirectoryAffiliate>(directoryProjection, directoryKeys.affiliate(affiliateId));
  }

  /** The affiliate, only if it belongs to the program: ids of other programs look like unknown ids. */
  async requireAffiliate(programId: string, affiliateId: string): Promise<DirectoryAffiliate> {
    const affiliate = await this.affiliate(affiliateId);
    if (!affiliate || affiliate.programId !== programId) throw new NotFound(`affiliate ${affiliateId} does not exist in program ${programId}`);
    return affiliate;
  }

  payout(payoutId: string): Promise<{ affiliateId: string; programId: string } | null> {
    return this.views.get(directoryProjection, directoryKeys.payout(payoutId));
  }

  link(code: string): string {
    return `${this.config.publicBaseUrl}/r/${encodeURIComponent(code)}`;
  }
}
