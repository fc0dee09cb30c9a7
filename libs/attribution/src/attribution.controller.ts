import { Controller, Get, Query, Param, UseGuards, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { EventStore } from '@lib/event-store/event-store.port';
import { AdminGuard } from '@lib/platform/admin.guard';
import { AppConfig } from '@lib/platform/config';
import { Clock } from '@lib/platform/clock';
import { ValidationFailed } from '@lib/platform/errors';
import { APP_CONFIG } from '@lib/platform/tokens';
import { ViewReader } from '@lib/views/view.reader';
import { DirectoryReader } from '@lib/programs/directory.reader';
import { settingsAt } from '@lib/programs/program.state';
import { ClickTokens } from '@lib/tracking/click-token';
import { ClickRecorded, clickStream } from '@lib/tracking/tracking.events';
import { addDays } from '@lib/commissions/commission.rule';
import { attributionKeys, attributionProjection, ConversionDoc } from './attribution.projection';
import { explain } from './explain';

@ApiTags('attribution')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/programs/:programId')
export class AttributionController {
  private readonly tokens: ClickTokens;

  constructor(
    private readonly views: ViewReader,
    private readonly directory: DirectoryReader,
    private readonly store: EventStore,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.tokens = new ClickTokens(config.trackingSecret);
  }

  @Get('attribution')
  @ApiOperation({ summary: 'Why an order (or a click) was or was not attributed, with a sentence that explains it' })
  @ApiQuery({ name: 'orderId', required: false })
  @ApiQuery({ name: 'clickId', required: false })
  async attribution(@Param('programId') programId: string, @Query('orderId') orderId?: string, @Query('clickId') clickId?: string) {
    const program = await this.directory.requireProgram(programId);
    const windowNow = settingsAt(program, this.clock.now().toISOString()).settings.cookieWindowDays;
    if (typeof orderId === 'string' && orderId.length > 0) return this.byOrder(programId, orderId, windowNow);
    if (typeof clickId === 'string' && clickId.length > 0) return this.byClick(programId, clickId, windowNow);
    throw new ValidationFailed('name the order or the click to look up', [{ field: 'orderId', message: 'send orderId or clickId' }]);
  }

  @Get('unattributed')
  @ApiOperation({ summary: 'Conversions that earned nothing, with their reasons, newest first' })
  async unattributed(@Param('programId') programId: string, @Query('from') from?: string, @Query('to') to?: string, @Query('limit') limitText?: string) {
    await this.directory.requireProgram(programId);
    const fromMs = parseTime(from, 'from') ?? Number.NEGATIVE_INFINITY;
    const toMs = parseTime(to, 'to') ?? Number.POSITIVE_INFINITY;
    const limit = Math.min(1000, Math.max(1, Number(limitText ?? 200) || 200));
    const entries = await this.views.zrange(attributionProjection, attributionKeys.unattributed(programId), {
      order: 'desc',
      after: Number.isFinite(toMs) ? { score: toMs, member: '\uffff' } : undefined,
      limit: 100_000,
    });
    const ids = entries.filter((e) => e.score >= fromMs && e.score <= toMs).slice(0, limit).map((e) => e.member);
    const docs = (await this.views.getMany<ConversionDoc>(attributionProjection, ids.map((id) => attributionKeys.record(id)))).filter((d) => d !== null);
    return { items: await Promise.all(docs.map((d) => this.describe(d!))) };
  }

  private async byOrder(programId: string, orderId: string, windowNow: number) {
    const ids = (await this.views.get<string[]>(attributionProjection, attributionKeys.order(programId, orderId))) ?? [];
    const docs = (await this.views.getMany<ConversionDoc>(attributionProjection, ids.map((id) => attributionKeys.record(id)))).filter((d): d is ConversionDoc => d !== null);
    const counted = docs.find((d) => d.duplicateOf === null);
    if (!counted) {
      return {
        attributed: false,
        reason: 'not_received',
        cookieWindowDays: windowNow,
        explanation: `No conversion with order id ${orderId} has reached this program. If a storefront sent it, check the answer it got and that it used this program's API key.`,
      };
    }
    return { ...(await this.describe(counted)), duplicates: await Promise.all(docs.filter((d) => d !== counted).map((d) => this.describe(d))) };
  }

  private async byClick(programId: string, clickId: string, windowNow: number) {
    const ref = this.tokens.read(clickId);
    const events = ref.valid && ref.programId === programId ? await this.store.readStream<ClickRecorded>(clickStream(clickId), { maxCount: 1 }) : [];
    if (events.length === 0) {
      return {
        attributed: false,
        reason: 'click_not_found',
        cookieWindowDays: windowNow,
        explanation: 'This click id was never issued by this program (mistyped, truncated, or from another program).',
      };
    }
    const c = events[0].data;
    const click = { clickId, affiliateId: c.affiliateId, occurredAt: c.occurredAt, expiresAt: addDays(c.occurredAt, c.cookieWindowDays), bot: c.bot };
    const ids = (await this.views.get<string[]>(attributionProjection, attributionKeys.click(clickId))) ?? [];
    const docs = (await this.views.getMany<ConversionDoc>(attributionProjection, ids.map((id) => attributionKeys.record(id)))).filter((d): d is ConversionDoc => d !== null);
    if (docs.length > 0) return { ...(await this.describe(docs[0])), click, conversions: await Promise.all(docs.map((d) => this.describe(d))) };
    const open = Date.parse(click.expiresAt) >= this.clock.now().getTime();
    return {
      attributed: false,
      reason: 'not_received',
      affiliateId: c.affiliateId,
      click,
      cookieWindowDays: c.cookieWindowDays,
      explanation: `The click was recorded at ${c.occurredAt}, but no conversion carrying it has arrived; its ${c.cookieWindowDays}-day window ${open ? 'is open until' : 'closed at'} ${click.expiresAt}.`,
    };
  }

  private async describe(d: ConversionDoc) {
    const a = d.attribution;
    const affiliate = a.affiliateId ? await this.directory.affiliate(a.affiliateId) : null;
    return {
      attributed: a.attributed,
      reason: a.reason,
      affiliateId: a.affiliateId ?? undefined,
      click: a.clickId && a.clickAt ? { clickId: a.clickId, affiliateId: a.affiliateId, occurredAt: a.clickAt, expiresAt: a.expiresAt } : undefined,
      conversion: {
        conversionId: d.conversionId,
        orderId: d.orderId,
        storefrontId: d.storefrontId,
        amountMinor: d.amountMinor,
        currency: d.currency,
        occurredAt: d.occurredAt,
        recordedAt: d.recordedAt,
        clickId: d.clickId,
        affiliateCode: d.affiliateCode,
      },
      cookieWindowDays: a.cookieWindowDays,
      explanation: explain(a, {
        orderId: d.orderId,
        occurredAt: d.occurredAt,
        affiliate: affiliate ? { name: affiliate.name, code: affiliate.code } : null,
        affiliateCode: d.affiliateCode,
        duplicateOf: d.duplicateOf,
      }),
    };
  }
}

function parseTime(value: string | undefined, field: string): number | null {
  if (value === undefined || value === '') return null;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ValidationFailed(`${field} is not a time`, [{ field, message: 'must be an ISO-8601 time' }]);
  return t;
}
