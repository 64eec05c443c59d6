import type { ApiToken } from '@s2g/db';
import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { createApiToken, requireScope } from '../../auth/tokens';
import type { ApiContext } from '../../context';
import type { UploadGrant } from '../../services';
import { CreateTokenInput, CreateUploadInput } from '../inputs';
import { ApiTokenType, BackendInfoType, CreatedTokenType, UploadType, ViewerType } from '../types/jobs';

@Resolver()
export class SystemResolver {
  @Query(() => BackendInfoType, { description: 'The tensor backend the trainer and the inference service use.' })
  backend(@Ctx() ctx: ApiContext): Promise<BackendInfoType> {
    return ctx.services.reads.backends();
  }

  @Query(() => ViewerType, { description: 'The token this request uses, and its scopes.' })
  viewer(@Ctx() ctx: ApiContext): ViewerType {
    const auth = requireScope(ctx.auth, 'read');
    return { tokenId: auth.tokenId, tokenName: auth.tokenName, scopes: auth.scopes };
  }

  @Mutation(() => UploadType, { description: 'A URL to PUT one file to (size and type limited); use its uploadId in startIngest or predict.' })
  createUpload(@Arg('input', () => CreateUploadInput) input: CreateUploadInput, @Ctx() ctx: ApiContext): Promise<UploadGrant> {
    return ctx.services.requests.createUpload(input);
  }

  @Authorized('admin')
  @Query(() => [ApiTokenType], { description: 'Every API token, newest first (admin).' })
  tokens(@Ctx() ctx: ApiContext): Promise<ApiToken[]> {
    return ctx.services.db.apiTokens.list();
  }

  @Authorized('admin')
  @Mutation(() => CreatedTokenType, { description: 'Creates an API token and returns its secret, once (admin).' })
  async createToken(@Arg('input', () => CreateTokenInput) input: CreateTokenInput, @Ctx() ctx: ApiContext): Promise<CreatedTokenType> {
    const { token, record } = await createApiToken(ctx.services.db, { name: input.name, scopes: input.scopes, expiresAt: input.expiresAt ?? null });
    ctx.logger.info({ tokenId: record.id, name: record.name, scopes: record.scopes, by: ctx.auth?.tokenId }, 'api token created');
    return { token, apiToken: record };
  }

  @Authorized('admin')
  @Mutation(() => Boolean, { description: 'Revokes a token at once; false when it was unknown or already revoked (admin).' })
  async revokeToken(@Arg('id', () => ID) id: string, @Ctx() ctx: ApiContext): Promise<boolean> {
    const revoked = await ctx.services.db.apiTokens.revoke(id);
    if (revoked) ctx.logger.info({ tokenId: id, by: ctx.auth?.tokenId }, 'api token revoked');
    return revoked;
  }
}
