
/*
 * Copyright (C) ngx_mcp_module authors
 */


/*
 * libFuzzer target for the JWT access token checks and the JWKS parser
 * (ngx_http_mcp_jwt.c).  Byte 0 of an input picks its use:
 *
 *   0: the rest is a token, checked as a client's;
 *   1: the rest is a header and claims, separated by the first newline,
 *      signed here with the policy's HS256 secret, so that the claims
 *      are reached whatever they are;
 *   2: the rest is a JWKS file.
 *
 * Beyond what ASan and UBSan see, the target aborts when a token taken
 * breaks what the gateway relies on: a principal of 1 to 128 visible
 * bytes without quotes or backslashes, scopes of scope tokens, an expiry
 * not in the past.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include <openssl/hmac.h>
#include "ngx_http_mcp_jwt.h"
#include "ngx_runtime.h"


#define FUZZ_NOW     1000000
#define FUZZ_SECRET  "the secret of the fuzzed tokens!"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static ngx_http_mcp_jwt_policy_t  fuzz_policy;


#define expect(cond)                                                        \
    if (!(cond)) {                                                         \
        fprintf(stderr, "fuzz_jwt: %s:%d: expected %s\n",                  \
                __FILE__, __LINE__, #cond);                                \
        abort();                                                           \
    }


/* a P-256 public key, so that ES256 tokens find one */

static const char  fuzz_jwks[] =
    "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"ec1\","
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_str_t   *iss;
    ngx_pool_t  *pool;

    ngx_runtime_init();

    pool = ngx_runtime_pool();
    expect(pool != NULL);

    expect(ngx_array_init(&fuzz_policy.keys, pool, 2,
                          sizeof(ngx_http_mcp_jwk_t)) == NGX_OK);
    expect(ngx_array_init(&fuzz_policy.issuers, pool, 1,
                          sizeof(ngx_str_t)) == NGX_OK);

    iss = ngx_array_push(&fuzz_policy.issuers);
    expect(iss != NULL);
    ngx_str_set(iss, "https://as");
    ngx_str_set(&fuzz_policy.audience, "https://rs/mcp");
    ngx_str_set(&fuzz_policy.client_claim, "sub");
    fuzz_policy.leeway = 60;

    expect(ngx_http_mcp_jwt_secret((u_char *) FUZZ_SECRET,
                                   sizeof(FUZZ_SECRET) - 1,
                                   &fuzz_policy.keys) == NULL);
    expect(ngx_http_mcp_jwks_parse(pool, ngx_cycle->log,
                                   (u_char *) fuzz_jwks,
                                   sizeof(fuzz_jwks) - 1,
                                   &fuzz_policy.keys) == NULL);

    return 0;
}


static void
fuzz_taken(ngx_http_mcp_jwt_t *jwt)
{
    u_char  *p, *last;

    expect(jwt->error == NULL);
    expect(jwt->client.len >= 1
           && jwt->client.len <= NGX_HTTP_MCP_JWT_CLIENT_MAX);

    last = jwt->client.data + jwt->client.len;

    for (p = jwt->client.data; p < last; p++) {
        expect(*p > 0x20 && *p != 0x7f && *p != '"' && *p != '\\');
    }

    expect(jwt->scope.len <= NGX_HTTP_MCP_JWT_SCOPE_MAX);

    last = jwt->scope.data + jwt->scope.len;

    for (p = jwt->scope.data; p < last; p++) {
        expect(*p >= 0x20 && *p <= 0x7e && *p != '"' && *p != '\\');
    }

    expect(jwt->expires >= FUZZ_NOW);
}


static void
fuzz_b64(ngx_str_t *dst, const u_char *data, size_t len)
{
    ngx_str_t  src;

    src.data = (u_char *) data;
    src.len = len;

    ngx_encode_base64url(dst, &src);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char              *nl, *p;
    ngx_int_t            rc;
    ngx_str_t            token, part;
    ngx_pool_t          *pool;
    ngx_array_t          keys;
    unsigned int         len;
    ngx_http_mcp_jwt_t   jwt;
    u_char               mac[EVP_MAX_MD_SIZE];

    if (size == 0 || size > 3 * NGX_HTTP_MCP_JWT_MAX) {
        return 0;
    }

    pool = ngx_runtime_pool();
    expect(pool != NULL);

    switch (data[0] % 3) {

    case 0:
        token.data = (u_char *) data + 1;
        token.len = size - 1;

        rc = ngx_http_mcp_jwt_verify(pool, &fuzz_policy, &token, FUZZ_NOW,
                                     &jwt);
        if (rc == NGX_OK) {
            fuzz_taken(&jwt);

        } else {
            expect(jwt.error != NULL);
        }

        break;

    case 1:
        nl = memchr(data + 1, '\n', size - 1);
        if (nl == NULL) {
            break;
        }

        token.data = ngx_pnalloc(pool, 2 * size + 64);
        expect(token.data != NULL);

        part.data = token.data;
        fuzz_b64(&part, data + 1, nl - data - 1);
        p = token.data + part.len;
        *p++ = '.';

        part.data = p;
        fuzz_b64(&part, nl + 1, data + size - nl - 1);
        p += part.len;

        expect(HMAC(EVP_sha256(), FUZZ_SECRET, sizeof(FUZZ_SECRET) - 1,
                    token.data, p - token.data, mac, &len) != NULL);

        *p++ = '.';
        part.data = p;
        fuzz_b64(&part, mac, len);
        p += part.len;

        token.len = p - token.data;

        rc = ngx_http_mcp_jwt_verify(pool, &fuzz_policy, &token, FUZZ_NOW,
                                     &jwt);
        if (rc == NGX_OK) {
            fuzz_taken(&jwt);

        } else {
            expect(jwt.error != NULL);
        }

        break;

    default:
        expect(ngx_array_init(&keys, pool, 2, sizeof(ngx_http_mcp_jwk_t))
               == NGX_OK);

        if (ngx_http_mcp_jwks_parse(pool, ngx_cycle->log,
                                    (u_char *) data + 1, size - 1, &keys)
            == NULL)
        {
            expect(keys.nelts > 0);
        }

        break;
    }

    /* the keys' cleanups run here */

    ngx_destroy_pool(pool);

    return 0;
}
