import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '@lib/platform/admin.guard';
import { Clock } from '@lib/platform/clock';
import { AuditService } from './audit.service';
import { DashboardReader } from './dashboard.reader';
import { AffiliateListQuery, TimeseriesQuery } from './dashboard.dto';

@ApiTags('dashboard')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/programs/:programId')
export class DashboardController {
  constructor(
    private readonly reader: DashboardReader,
    private readonly auditor: AuditService,
    private readonly clock: Clock,
  ) {}

  @Get('dashboard')
  @ApiOperation({ summary: 'Top metrics, top affiliates, affiliates that need attention, and how fresh the views are' })
  dashboard(@Param('programId') programId: string) {
    return this.reader.dashboard(programId, this.clock.now());
  }

  @Get('affiliates')
  @ApiOperation({ summary: 'Affiliates with their stats, sorted and paginated by cursor; q= searches by name or code' })
  list(@Param('programId') programId: string, @Query() q: AffiliateListQuery) {
    const page = { sort: q.sort ?? 'clicks', order: q.order ?? 'desc', limit: q.limit ?? 50 } as const;
    if (q.q !== undefined) return this.reader.search(programId, { ...page, q: q.q }, this.clock.now());
    return this.reader.list(programId, { ...page, cursor: q.cursor }, this.clock.now());
  }

  @Get('affiliates/:affiliateId')
  @ApiOperation({ summary: "One affiliate's stats, with its email, landing URL, commission override (null: the program's rule) and enrolment time" })
  one(@Param('programId') programId: string, @Param('affiliateId') affiliateId: string) {
    return this.reader.one(programId, affiliateId, this.clock.now());
  }

  @Get('timeseries')
  @ApiOperation({ summary: 'Clicks, conversions or commission per hour or day (UTC buckets)' })
  timeseries(@Param('programId') programId: string, @Query() q: TimeseriesQuery) {
    return this.reader.timeseries(programId, { metric: q.metric ?? 'clicks', interval: q.interval ?? 'day', from: q.from, to: q.to }, this.clock.now());
  }

  @Get('payables')
  @ApiOperation({ summary: 'Affiliates whose payable balance reaches the minimum payout' })
  payables(@Param('programId') programId: string) {
    return this.reader.payables(programId, this.clock.now());
  }

  @Get('audit')
  @ApiTags('finance')
  @ApiOperation({
    summary: "Recomputes every affiliate's balances and counts from the event store and compares them with the dashboard's views",
    description:
      'Answers {programId, position, affiliatesChecked, mismatches: [{affiliateId, field, viewValue, eventValue}]}; ' +
      'affiliateId is null for the program totals. Reads the whole log: an audit, not a dashboard read.',
  })
  audit(@Param('programId') programId: string) {
    return this.auditor.audit(programId, this.clock.now());
  }
}
