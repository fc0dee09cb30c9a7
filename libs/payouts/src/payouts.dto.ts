import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';

export class RecordPayoutDto {
  @ApiPropertyOptional({ description: 'minor units; default: everything payable now' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  amountMinor?: number;

  @ApiPropertyOptional({ description: 'e.g. the bank transfer reference' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  reference?: string;

  @ApiPropertyOptional({ description: 'when the money was sent; default now' })
  @IsOptional()
  @IsISO8601({ strict: true })
  paidAt?: string;
}

export class VoidPayoutDto {
  @ApiProperty() @IsString() @Length(1, 500) reason: string;
}
