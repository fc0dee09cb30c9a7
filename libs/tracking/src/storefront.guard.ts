import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { Unauthorized } from '@lib/platform/errors';
import { DirectoryReader } from '@lib/programs/directory.reader';
import { DirectoryStorefront } from '@lib/programs/directory.projection';

/** Storefront API: `X-Api-Key` resolves to one storefront, and through it to exactly one program. */
@Injectable()
export class StorefrontGuard implements CanActivate {
  constructor(private readonly directory: DirectoryReader) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; storefront?: DirectoryStorefront }>();
    const key = request.headers['x-api-key'];
    if (!key) throw new Unauthorized('send the storefront API key in the X-Api-Key header');
    const storefront = await this.directory.storefrontByKey(key);
    if (!storefront) throw new Unauthorized('the storefront API key is not valid');
    request.storefront = storefront;
    return true;
  }
}

export const CurrentStorefront = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => context.switchToHttp().getRequest<{ storefront: DirectoryStorefront }>().storefront,
);
