import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { SORT_KEYS, SortKey } from './stats.projection';

export class AffiliateListQuery {
  @ApiPropertyOptional({ enum: SORT_KEYS, default: 'clicks' })
  @IsOptional()
  @IsIn(SORT_KEYS as unknown as string[])
  sort?: SortKey;

  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'desc' })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  order?: 'asc' | 'desc';

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({
    description:
      "search: affiliates whose name, a word of their name, or code starts with q (case-insensitive). Answers up to `limit` " +
      'matches in one page, sorted by `sort` and `order`; nextCursor is null and cursor is ignored.',
    minLength: 1,
    maxLength: 100,
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  q?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  cursor?: string;
}

export class TimeseriesQuery {
  @ApiPropertyOptional({ enum: ['clicks', 'conversions', 'commission'], default: 'clicks' })
  @IsOptional()
  @IsIn(['clicks', 'conversions', 'commission'])
  metric?: 'clicks' | 'conversions' | 'commission';

  @ApiPropertyOptional({ enum: ['day', 'hour'], default: 'day' })
  @IsOptional()
  @IsIn(['day', 'hour'])
  interval?: 'day' | 'hour';

  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) to?: string;
}
