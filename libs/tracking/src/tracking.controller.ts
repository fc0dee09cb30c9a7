import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { DirectoryStorefront } from '@lib/programs/directory.projection';
import { CurrentStorefront, StorefrontGuard } from './storefront.guard';
import { TrackerService } from './tracker.service';
import { BatchDto, ClickDto, ConversionDto } from './tracking.dto';
import { trackingScript } from './tracking.script';

@ApiTags('tracking')
@Controller()
export class RedirectController {
  constructor(private readonly tracker: TrackerService) {}

  @Get('r/:code')
  @ApiOperation({ summary: "Affiliate link: records the click durably, then 302 to the landing page with aff_click and the cookie" })
  async redirect(@Param('code') code: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('sub') sub?: string): Promise<void> {
    if (request.method === 'HEAD') {
      // Link checkers and prefetchers send HEAD: answer where the link goes, count no click.
      const { target } = await this.tracker.landing(code);
      void reply.status(302).header('location', target.toString()).header('cache-control', 'no-store').send();
      return;
    }
    const { location, clickId, maxAgeSeconds } = await this.tracker.redirect(code, {
      ip: request.ip ?? null,
      userAgent: header(request, 'user-agent'),
      referrer: header(request, 'referer'),
      subId: typeof sub === 'string' && sub.length > 0 ? sub.slice(0, 200) : null,
    });
    void reply
      .status(302)
      .header('location', location)
      .header('set-cookie', `aff_click=${clickId}; Max-Age=${maxAgeSeconds}; Path=/; SameSite=Lax`)
      .header('cache-control', 'no-store')
      .send();
  }

  @Get('t.js')
  @ApiOperation({ summary: 'Storefront script: keeps aff_click as a first-party cookie for the cookie window (?program=<id>)' })
  async script(@Res() reply: FastifyReply, @Query('program') program?: string): Promise<void> {
    const days = await this.tracker.cookieWindowDays(typeof program === 'string' ? program : undefined);
    void reply.header('content-type', 'application/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(trackingScript(days));
  }
}

@ApiTags('storefront')
@ApiSecurity('storefront')
@UseGuards(StorefrontGuard)
@Controller('v1')
export class StorefrontController {
  constructor(private readonly tracker: TrackerService) {}

  @Post('clicks')
  @HttpCode(202)
  @ApiOperation({ summary: 'Server-side click; 202 once it is durably recorded' })
  click(@CurrentStorefront() storefront: DirectoryStorefront, @Body() body: ClickDto) {
    return this.tracker.click(storefront, body);
  }

  @Post('conversions')
  @HttpCode(202)
  @ApiOperation({ summary: 'Conversion; the same orderId again from the same storefront is counted once' })
  conversion(@CurrentStorefront() storefront: DirectoryStorefront, @Body() body: ConversionDto) {
    return this.tracker.conversion(storefront, body);
  }

  @Post('batch')
  @HttpCode(202)
  @ApiOperation({ summary: 'Up to 1000 clicks and conversions with per-item results' })
  batch(@CurrentStorefront() storefront: DirectoryStorefront, @Body() body: BatchDto) {
    return this.tracker.batch(storefront, body.events);
  }
}

function header(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text ? text.slice(0, name === 'referer' ? 2000 : 1000) : null;
}
