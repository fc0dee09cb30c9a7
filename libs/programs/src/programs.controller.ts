import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EventStore } from '@lib/event-store/event-store.port';
import { AdminGuard } from '@lib/platform/admin.guard';
import { Clock } from '@lib/platform/clock';
import { NotFound } from '@lib/platform/errors';
import { ViewReader } from '@lib/views/view.reader';
import { DirectoryReader } from './directory.reader';
import { CommissionRule } from './programs.events';
import {
  ChangeProgramSettingsCommand,
  CreateProgramCommand,
  EnrollAffiliateCommand,
  RegisterStorefrontCommand,
  UpdateAffiliateCommand,
} from './programs.commands';
import { CommissionRuleDto, CreateProgramDto, CreateStorefrontDto, EnrollAffiliateDto, UpdateAffiliateDto, UpdateProgramDto } from './programs.dto';
import { affiliateView, programView } from './programs.views';
import { programStream } from './programs.events';

export function toRule(dto: CommissionRuleDto): CommissionRule {
  return dto.type === 'percent' ? { type: 'percent', basisPoints: dto.basisPoints! } : { type: 'flat', amountMinor: dto.amountMinor! };
}

@ApiTags('programs')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/programs')
export class ProgramsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly directory: DirectoryReader,
    private readonly views: ViewReader,
    private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a program (tenant) with its currency, landing page, cookie window and commission rule' })
  async create(@Body() body: CreateProgramDto) {
    const { programId, position } = await this.commands.execute(
      new CreateProgramCommand({
        name: body.name,
        currency: body.currency,
        defaultLandingUrl: body.defaultLandingUrl,
        allowedLandingHosts: body.allowedLandingHosts ?? [],
        cookieWindowDays: body.cookieWindowDays,
        commission: toRule(body.commission),
        holdDays: body.holdDays,
        minimumPayoutMinor: body.minimumPayoutMinor,
      }),
    );
    await this.views.waitFor(position);
    return this.show(programId);
  }

  @Get()
  @ApiOperation({ summary: 'List programs' })
  async list() {
    const now = this.clock.now();
    const programs = await Promise.all((await this.directory.programIds()).map((id) => this.directory.program(id)));
    return { items: programs.filter((p) => p !== null).map((p) => programView(p!, now)) };
  }

  @Get(':programId')
  async show(@Param('programId') programId: string) {
    return programView(await this.directory.requireProgram(programId), this.clock.now());
  }

  @Patch(':programId')
  @ApiOperation({ summary: 'Change settings; recorded as an event with the time it takes effect, never rewriting earned commissions' })
  async update(@Param('programId') programId: string, @Body() body: UpdateProgramDto) {
    const { effectiveAt, commission, ...rest } = body;
    const { position } = await this.commands.execute(
      new ChangeProgramSettingsCommand(programId, { ...rest, ...(commission ? { commission: toRule(commission) } : {}) }, effectiveAt),
    );
    await this.views.waitFor(position);
    return this.show(programId);
  }

  @Get(':programId/history')
  @ApiOperation({ summary: "The program's events: creation, every settings change with its version and effective time, storefronts" })
  async history(@Param('programId') programId: string) {
    const events = await this.store.readStream(programStream(programId));
    if (events.length === 0) throw new NotFound(`program ${programId} does not exist`);
    return {
      items: events.map((e) => {
        const { apiKeyHash: _hidden, type: _type, ...data } = e.data;
        return { eventId: e.id, type: e.type, revision: e.revision, recordedAt: e.recordedAt, ...data };
      }),
    };
  }

  @Post(':programId/storefronts')
  @ApiOperation({ summary: 'Register a storefront; its API key is shown once, only its hash is stored' })
  async createStorefront(@Param('programId') programId: string, @Body() body: CreateStorefrontDto) {
    const { storefrontId, apiKey, position } = await this.commands.execute(new RegisterStorefrontCommand(programId, body.name));
    await this.views.waitFor(position);
    return { id: storefrontId, programId, name: body.name, apiKey };
  }

  @Post(':programId/affiliates')
  @ApiOperation({ summary: 'Enroll an affiliate; a taken code → 409, a landing host the program does not allow → 422' })
  async enroll(@Param('programId') programId: string, @Body() body: EnrollAffiliateDto) {
    const { affiliateId, position } = await this.commands.execute(
      new EnrollAffiliateCommand(programId, {
        name: body.name,
        email: body.email,
        code: body.code,
        landingUrl: body.landingUrl,
        commission: body.commission ? toRule(body.commission) : undefined,
      }),
    );
    await this.views.waitFor(position);
    return this.affiliate(programId, affiliateId);
  }

  @Patch(':programId/affiliates/:affiliateId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Suspend or reactivate an affiliate, or set (null: remove) its commission override' })
  async updateAffiliate(@Param('programId') programId: string, @Param('affiliateId') affiliateId: string, @Body() body: UpdateAffiliateDto) {
    const commission = body.commission === undefined ? undefined : body.commission === null ? null : toRule(body.commission);
    const { position } = await this.commands.execute(new UpdateAffiliateCommand(programId, affiliateId, { status: body.status, commission }));
    await this.views.waitFor(position);
    return this.affiliate(programId, affiliateId);
  }

  private async affiliate(programId: string, affiliateId: string) {
    const a = await this.directory.requireAffiliate(programId, affiliateId);
    return affiliateView(a, this.directory.link(a.code));
  }
}
