import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsEmail, IsInt, IsIP, IsISO4217CurrencyCode, IsISO8601, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { CODE_PATTERN } from '@lib/programs/programs.dto';

export const MAX_BATCH = 1000;

export class ClickDto {
  @ApiProperty({ description: "the affiliate's code" })
  @Matches(CODE_PATTERN, { message: 'code must be 3 to 32 letters, digits, _ or -' })
  code: string;

  @ApiPropertyOptional({ description: 'ISO-8601; default: when received' })
  @IsOptional()
  @IsISO8601({ strict: true })
  occurredAt?: string;

  @ApiPropertyOptional({ description: "the visitor's IP; hashed with a per-program secret, never stored" })
  @IsOptional()
  @IsIP()
  ip?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 1000) userAgent?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 2000) referrer?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) subId?: string;
}

export class ConversionDto {
  @ApiProperty() @IsString() @Length(1, 200) orderId: string;

  @ApiProperty({ description: 'order amount in minor units' })
  @IsInt()
  @Min(0)
  @Max(1e13)
  amountMinor: number;

  @ApiProperty({ description: "must be the program's currency" })
  @IsISO4217CurrencyCode()
  currency: string;

  @ApiPropertyOptional({ description: 'the aff_click value from the cookie or landing URL' })
  @IsOptional()
  @IsString()
  @Length(1, 300)
  clickId?: string;

  @ApiPropertyOptional({ description: "an affiliate's code, for coupon/code sales" })
  @IsOptional()
  @Matches(CODE_PATTERN, { message: 'affiliateCode must be 3 to 32 letters, digits, _ or -' })
  affiliateCode?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) customerId?: string;

  @ApiPropertyOptional({ description: "used to refuse self-referrals (the affiliate's own email); not stored" })
  @IsOptional()
  @IsEmail()
  customerEmail?: string;

  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) occurredAt?: string;
}

export class BatchDto {
  @ApiProperty({ description: `up to ${MAX_BATCH} items: {type: "click"|"conversion"|"refund", ...fields}`, type: 'array', items: { type: 'object' } })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH)
  events: Record<string, unknown>[];
}
