import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual, createHash } from 'node:crypto';
import { AppConfig } from './config';
import { Unauthorized } from './errors';
import { APP_CONFIG } from './tokens';

/** Operator API: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = digest(config.adminToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers.authorization;
    const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
    if (!match) throw new Unauthorized('send the operator token as "Authorization: Bearer <token>"');
    if (!timingSafeEqual(digest(match[1].trim()), this.expected)) throw new Unauthorized('the operator token is not valid');
    return true;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
