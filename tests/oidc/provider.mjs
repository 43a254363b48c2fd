// A local OpenID Connect provider for the single sign-on tests: oidc-provider (OpenID Certified), with its
// development sign-in pages. Usage: node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
// The sign-in page takes any login; the account's `sub` and `preferred_username` are that login.
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'] },
  // Profile claims in the ID token itself (the relying party reads its matching claim there).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['jianwu-test-only'] },
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { sub: id, preferred_username: id, name: id }; } };
  },
});
provider.proxy = false;
provider.listen(Number(port), '127.0.0.1', () => console.log(`listening ${issuer}`));
