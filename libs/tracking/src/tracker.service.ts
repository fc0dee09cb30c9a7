import { Inject, Injectable } from '@nestjs/common';
import { validateSync } from 'class-validator';
import { isbot } from 'isbot';
import { Transport, TrackingMessage } from '@lib/messaging/transport.port';
import { AppConfig } from '@lib/platform/config';
import { Clock } from '@lib/platform/clock';
import { AppError, BusinessRuleViolation, NotFound, ValidationFailed } from '@lib/platform/errors';
import { APP_CONFIG } from '@lib/platform/tokens';
import { toFieldErrors } from '@lib/platform/validation';
import { DirectoryAffiliate, DirectoryStorefront } from '@lib/programs/directory.projection';
import { DirectoryReader } from '@lib/programs/directory.reader';
import { landingHostAllowed } from '@lib/programs/program.state';
import { ProgramSettings } from '@lib/programs/programs.events';
import { ClickTokens, VisitorHasher } from './click-token';
import { clickMessage, conversionMessage } from './tracking.messages';
import { ClickDto, ConversionDto } from './tracking.dto';

/** How far in the future a client's occurredAt may be (clock skew), before it is refused. */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;

export interface VisitorInfo {
  ip: string | null;
  userAgent: string | null;
  referrer: string | null;
  subId: string | null;
}

export type BatchResult =
  | { index: number; status: 'accepted'; id: string }
  | { index: number; status: 'rejected'; error: { error: string; message: string; details: { field: string; message: string }[] } };

/**
 * The edge: validates input against the directory, decides what only the edge can (click id, bot flag,
 * visitor hash), and hands the message to the transport. It answers only after the hand-off is durable.
 */
@Injectable()
export class TrackerService {
  private readonly tokens: ClickTokens;
  private readonly visitors: VisitorHasher;

  constructor(
    private readonly directory: DirectoryReader,
    private readonly transport: Transport,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.tokens = new ClickTokens(config.trackingSecret);
    this.visitors = new VisitorHasher(config.trackingSecret);
  }

  /** GET /r/{code}: records the click, then says where to send the browser and for how long to keep the cookie. */
  async redirect(code: string, visitor: VisitorInfo): Promise<{ location: string; clickId: string; maxAgeSeconds: number }> {
    const now = this.clock.now();
    const { affiliate, settings, target } = await this.landing(code, now);
    const { message, clickId } = this.clickMessage(affiliate, now, now, visitor, 'redirect', null);
    await this.transport.publish([message]);
    target.searchParams.set('aff_click', clickId);
    return { location: target.toString(), clickId, maxAgeSeconds: settings.cookieWindowDays * 86_400 };
  }

  /** Where the link leads, recording nothing (HEAD requests from link checkers and prefetchers). */
  async landing(code: string, now = this.clock.now()): Promise<{ affiliate: DirectoryAffiliate; settings: ProgramSettings; target: URL }> {
    const affiliate = await this.directory.affiliateByCode(code);
    if (!affiliate || affiliate.status !== 'active') throw new NotFound(`no active affiliate has the code "${code}"`);
    const settings = await this.requireSettings(affiliate.programId, now);
    // Open redirects are impossible: the target is the program's landing page or an allowed host.
    const target = new URL(affiliate.landingUrl && landingHostAllowed(settings, affiliate.landingUrl) ? affiliate.landingUrl : settings.defaultLandingUrl);
    return { affiliate, settings, target };
  }

  async click(storefront: DirectoryStorefront, dto: ClickDto): Promise<{ clickId: string }> {
    const { message, clickId } = await this.prepareClick(storefront, dto);
    await this.transport.publish([message]);
    return { clickId };
  }

  async conversion(storefront: DirectoryStorefront, dto: ConversionDto): Promise<{ conversionId: string }> {
    const message = await this.prepareConversion(storefront, dto);
    await this.transport.publish([message]);
    return { conversionId: message.body.conversionId as string };
  }

  /** Each item is validated on its own; the accepted ones go out in one hand-off. */
  async batch(storefront: DirectoryStorefront, items: Record<string, unknown>[]): Promise<{ results: BatchResult[] }> {
    const results: BatchResult[] = [];
    const messages: TrackingMessage[] = [];
    for (const [index, item] of items.entries()) {
      try {
        const { message, id } = await this.prepareItem(storefront, item);
        messages.push(message);
        results.push({ index, status: 'accepted', id });
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        results.push({ index, status: 'rejected', error: { error: e.code, message: e.message, details: e.details } });
      }
    }
    await this.transport.publish(messages);
    return { results };
  }

  private async prepareItem(storefront: DirectoryStorefront, item: Record<string, unknown>): Promise<{ message: TrackingMessage; id: string }> {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new ValidationFailed('each item must be an object', [{ field: 'type', message: 'missing' }]);
    const { type, ...fields } = item;
    if (type === 'click') {
      const { message, clickId } = await this.prepareClick(storefront, validated(ClickDto, fields));
      return { message, id: clickId };
    }
    if (type === 'conversion') {
      const message = await this.prepareConversion(storefront, validated(ConversionDto, fields));
      return { message, id: message.body.conversionId as string };
    }
    if (type === 'refund') throw new BusinessRuleViolation('not_supported', 'refunds are not accepted yet by this version');
    throw new ValidationFailed('the item type is invalid', [{ field: 'type', message: 'type must be one of click, conversion, refund' }]);
  }

  private async prepareClick(storefront: DirectoryStorefront, dto: ClickDto) {
    const now = this.clock.now();
    const affiliate = await this.directory.affiliateByCode(dto.code);
    // Another program's code looks exactly like an unknown one: a key never reaches other programs.
    if (!affiliate || affiliate.programId !== storefront.programId || affiliate.status !== 'active') {
      throw new NotFound(`no active affiliate has the code "${dto.code}" in this program`);
    }
    const occurredAt = businessTime(dto.occurredAt, now);
    const visitor = { ip: dto.ip ?? null, userAgent: dto.userAgent ?? null, referrer: dto.referrer ?? null, subId: dto.subId ?? null };
    return this.clickMessage(affiliate, occurredAt, now, visitor, 'api', storefront.storefrontId);
  }

  private clickMessage(
    affiliate: DirectoryAffiliate,
    occurredAt: Date,
    now: Date,
    visitor: VisitorInfo,
    source: 'redirect' | 'api',
    storefrontId: string | null,
  ): { message: TrackingMessage; clickId: string } {
    const clickId = this.tokens.issue(affiliate.programId, affiliate.affiliateId, occurredAt);
    const message = clickMessage(
      {
        programId: affiliate.programId,
        affiliateId: affiliate.affiliateId,
        clickId,
        occurredAt,
        visitorHash: this.visitors.hash(affiliate.programId, visitor.ip, visitor.userAgent),
        userAgent: visitor.userAgent,
        referrer: visitor.referrer,
        subId: visitor.subId,
        bot: visitor.userAgent ? isbot(visitor.userAgent) : false,
        source,
        storefrontId,
      },
      now,
    );
    return { message, clickId };
  }

  private async prepareConversion(storefront: DirectoryStorefront, dto: ConversionDto): Promise<TrackingMessage> {
    const now = this.clock.now();
    const settings = await this.requireSettings(storefront.programId, now);
    const currency = dto.currency.toUpperCase();
    if (currency !== settings.currency) {
      throw new BusinessRuleViolation('currency_mismatch', `the program is in ${settings.currency}; this conversion is in ${currency}`, [
        { field: 'currency', message: `must be ${settings.currency}` },
      ]);
    }
    businessTime(dto.occurredAt, now); // refuses an occurredAt in the future
    return conversionMessage(storefront, { ...dto, currency }, now);
  }

  private async requireSettings(programId: string, now: Date): Promise<ProgramSettings> {
    const settings = await this.directory.settingsNow(programId, now);
    if (!settings) throw new NotFound(`program ${programId} does not exist`);
    return settings;
  }

  /** t.js: the cookie window of one program, or 30 days when none is named. */
  async cookieWindowDays(programId: string | undefined): Promise<number> {
    if (!programId) return 30;
    return (await this.directory.settingsNow(programId, this.clock.now()))?.cookieWindowDays ?? 30;
  }
}

function validated<T extends object>(cls: new () => T, fields: Record<string, unknown>): T {
  // The item DTOs are flat, with no transforms: an assign is what plainToInstance would do, at a fraction of its cost.
  const dto = Object.assign(new cls(), fields);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: true });
  if (errors.length > 0) throw new ValidationFailed('the item is invalid', toFieldErrors(errors));
  return dto;
}

function businessTime(given: string | undefined, now: Date): Date {
  if (!given) return now;
  const t = new Date(given);
  if (t.getTime() > now.getTime() + MAX_FUTURE_SKEW_MS) {
    throw new ValidationFailed('occurredAt is in the future', [{ field: 'occurredAt', message: 'must not be later than now' }]);
  }
  return t;
}
