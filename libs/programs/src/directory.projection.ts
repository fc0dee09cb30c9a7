import { RecordedEvent } from '@lib/event-store/event-store.port';
import { Projection, ProjectionContext } from '@lib/views/projection';
import { PayoutRecorded } from '@lib/payouts/payouts.events';
import { evolveProgram, ProgramState } from './program.state';
import { AffiliateStatus, CommissionRule, EnrolmentEvent, ProgramEvent } from './programs.events';

/** Who is who: programs and their settings history, storefront keys, affiliate codes, payouts → affiliate. */
export interface DirectoryAffiliate {
  affiliateId: string;
  programId: string;
  name: string;
  email: string;
  code: string;
  landingUrl: string | null;
  commission: CommissionRule | null;
  status: AffiliateStatus;
  enrolledAt: string;
}

export interface DirectoryStorefront {
  storefrontId: string;
  programId: string;
  name: string;
}

export const directoryKeys = {
  program: (programId: string) => `program:${programId}`,
  programs: 'programs',
  apiKey: (hash: string) => `key:${hash}`,
  code: (code: string) => `code:${code.toLowerCase()}`,
  affiliate: (affiliateId: string) => `affiliate:${affiliateId}`,
  payout: (payoutId: string) => `payout:${payoutId}`,
};

type DirectoryEvent = ProgramEvent | EnrolmentEvent | PayoutRecorded;

export const directoryProjection: Projection = {
  name: 'directory',
  version: 1,
  eventTypes: [
    'ProgramCreated',
    'ProgramSettingsChanged',
    'StorefrontRegistered',
    'AffiliateEnrolled',
    'AffiliateStatusChanged',
    'AffiliateCommissionChanged',
    'PayoutRecorded',
  ],
  keysFor(event: RecordedEvent<DirectoryEvent>): string[] {
    const e = event.data;
    switch (e.type) {
      case 'ProgramCreated':
      case 'ProgramSettingsChanged':
        return [directoryKeys.program(e.programId)];
      case 'StorefrontRegistered':
        return [directoryKeys.program(e.programId), directoryKeys.apiKey(e.apiKeyHash)];
      case 'AffiliateEnrolled':
        return [directoryKeys.affiliate(e.affiliateId), directoryKeys.code(e.code)];
      case 'AffiliateStatusChanged':
      case 'AffiliateCommissionChanged':
        return [directoryKeys.affiliate(e.affiliateId)];
      case 'PayoutRecorded':
        return [directoryKeys.payout(e.payoutId)];
    }
  },
  apply(event: RecordedEvent<DirectoryEvent>, ctx: ProjectionContext): void {
    const e = event.data;
    switch (e.type) {
      case 'ProgramCreated':
        ctx.zadd(directoryKeys.programs, e.programId, Date.parse(e.occurredAt));
      // falls through: the program document is the program's folded state
      case 'ProgramSettingsChanged':
      case 'StorefrontRegistered': {
        const key = directoryKeys.program(e.programId);
        ctx.put(key, evolveProgram(ctx.get<ProgramState>(key), e));
        if (e.type === 'StorefrontRegistered') {
          const sf: DirectoryStorefront = { storefrontId: e.storefrontId, programId: e.programId, name: e.name };
          ctx.put(directoryKeys.apiKey(e.apiKeyHash), sf);
        }
        return;
      }
      case 'AffiliateEnrolled': {
        const affiliate: DirectoryAffiliate = {
          affiliateId: e.affiliateId,
          programId: e.programId,
          name: e.name,
          email: e.email,
          code: e.code,
          landingUrl: e.landingUrl,
          commission: e.commission,
          status: 'active',
          enrolledAt: e.occurredAt,
        };
        ctx.put(directoryKeys.affiliate(e.affiliateId), affiliate);
        ctx.put(directoryKeys.code(e.code), { affiliateId: e.affiliateId, programId: e.programId });
        return;
      }
      case 'AffiliateStatusChanged':
      case 'AffiliateCommissionChanged': {
        const key = directoryKeys.affiliate(e.affiliateId);
        const current = ctx.get<DirectoryAffiliate>(key);
        if (!current) return;
        ctx.put(key, e.type === 'AffiliateStatusChanged' ? { ...current, status: e.status } : { ...current, commission: e.commission });
        return;
      }
      case 'PayoutRecorded':
        ctx.put(directoryKeys.payout(e.payoutId), { affiliateId: e.affiliateId, programId: e.programId });
        return;
    }
  },
};
