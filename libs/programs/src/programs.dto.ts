import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsEmail,
  IsFQDN,
  IsIn,
  IsInt,
  IsISO4217CurrencyCode,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

const URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

export class CommissionRuleDto {
  @ApiProperty({ enum: ['percent', 'flat'] })
  @IsIn(['percent', 'flat'])
  type: 'percent' | 'flat';

  @ApiPropertyOptional({ description: 'percent rules: basis points, 1250 = 12.5%', minimum: 1, maximum: 10000 })
  @ValidateIf((o) => o.type === 'percent')
  @IsInt()
  @Min(1)
  @Max(10000)
  basisPoints?: number;

  @ApiPropertyOptional({ description: 'flat rules: minor units per conversion', minimum: 0 })
  @ValidateIf((o) => o.type === 'flat')
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  amountMinor?: number;
}

export class CreateProgramDto {
  @ApiProperty()
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ example: 'EUR', description: 'ISO-4217; one currency per program' })
  @IsISO4217CurrencyCode()
  currency: string;

  @ApiProperty({ example: 'https://shop.example.com/' })
  @IsUrl(URL_OPTIONS)
  defaultLandingUrl: string;

  @ApiPropertyOptional({ type: [String], description: 'extra hosts affiliate landing URLs may point at' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsFQDN({ require_tld: false }, { each: true })
  allowedLandingHosts?: string[];

  @ApiProperty({ minimum: 1, maximum: 365 })
  @IsInt()
  @Min(1)
  @Max(365)
  cookieWindowDays: number;

  @ApiProperty({ type: CommissionRuleDto })
  @IsObject()
  @ValidateNested()
  @Type(() => CommissionRuleDto)
  commission: CommissionRuleDto;

  @ApiProperty({ minimum: 0, maximum: 365, description: 'days a commission is held before it is payable' })
  @IsInt()
  @Min(0)
  @Max(365)
  holdDays: number;

  @ApiProperty({ minimum: 0 })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  minimumPayoutMinor: number;
}

export class UpdateProgramDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional({ description: 'cannot change; accepted only when equal to the current one' })
  @IsOptional()
  @IsISO4217CurrencyCode()
  currency?: string;
  @ApiPropertyOptional() @IsOptional() @IsUrl(URL_OPTIONS) defaultLandingUrl?: string;
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsFQDN({ require_tld: false }, { each: true })
  allowedLandingHosts?: string[];
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(365) cookieWindowDays?: number;
  @ApiPropertyOptional({ type: CommissionRuleDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => CommissionRuleDto)
  commission?: CommissionRuleDto;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) @Max(365) holdDays?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) minimumPayoutMinor?: number;
  @ApiPropertyOptional({ description: 'when the change takes effect (default now); never in the past' })
  @IsOptional()
  @IsISO8601({ strict: true })
  effectiveAt?: string;
}

export class CreateStorefrontDto {
  @ApiProperty() @IsString() @Length(1, 200) name: string;
}

export const CODE_PATTERN = /^[A-Za-z0-9_-]{3,32}$/;

export class EnrollAffiliateDto {
  @ApiProperty() @IsString() @Length(1, 200) name: string;
  @ApiProperty() @IsEmail() email: string;
  @ApiPropertyOptional({ description: '3–32 letters, digits, _ or -; unique across all programs; generated when absent' })
  @IsOptional()
  @Matches(CODE_PATTERN, { message: 'code must be 3 to 32 letters, digits, _ or -' })
  code?: string;
  @ApiPropertyOptional() @IsOptional() @IsUrl(URL_OPTIONS) landingUrl?: string;
  @ApiPropertyOptional({ type: CommissionRuleDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => CommissionRuleDto)
  commission?: CommissionRuleDto;
}

export class UpdateAffiliateDto {
  @ApiPropertyOptional({ enum: ['active', 'suspended'] })
  @IsOptional()
  @IsIn(['active', 'suspended'])
  status?: 'active' | 'suspended';

  @ApiPropertyOptional({ type: CommissionRuleDto, nullable: true, description: 'null removes the override' })
  @ValidateIf((o) => o.commission !== null && o.commission !== undefined)
  @IsObject()
  @ValidateNested()
  @Type(() => CommissionRuleDto)
  commission?: CommissionRuleDto | null;
}
