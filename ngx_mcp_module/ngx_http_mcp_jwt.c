
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include "ngx_http_mcp_jwt.h"


/*
 * Each key is bound to one algorithm by its type: an RSA key verifies
 * RS256 only, a P-256 key ES256, an Ed25519 key EdDSA, the shared secret
 * HS256.  A token naming another algorithm for a key (a public key used
 * as an HMAC secret, "none") finds no key at all.
 */


#define NGX_HTTP_MCP_JWT_KID_MAX  256


static char *ngx_http_mcp_jwk_parse(ngx_pool_t *pool, ngx_log_t *log,
    json_t *jwk, ngx_uint_t n, ngx_http_mcp_jwk_t *key);
static ngx_int_t ngx_http_mcp_jwk_b64(ngx_pool_t *pool, json_t *jwk,
    const char *name, ngx_str_t *out);
static EVP_PKEY *ngx_http_mcp_jwk_rsa(ngx_str_t *n, ngx_str_t *e);
static EVP_PKEY *ngx_http_mcp_jwk_ec(ngx_str_t *x, ngx_str_t *y);
static ngx_int_t ngx_http_mcp_jwk_check(EVP_PKEY *pkey);
static void ngx_http_mcp_jwk_cleanup(void *data);
static ngx_uint_t ngx_http_mcp_jwt_alg(json_t *alg);
static ngx_int_t ngx_http_mcp_jwt_decode(ngx_pool_t *pool, u_char *p,
    u_char *last, ngx_str_t *out);
static ngx_uint_t ngx_http_mcp_b64url_value(u_char c);
static ngx_int_t ngx_http_mcp_jwt_signature(ngx_pool_t *pool,
    ngx_http_mcp_jwk_t *key, ngx_str_t *data, ngx_str_t *sig);
static ngx_int_t ngx_http_mcp_jwt_pkey_verify(EVP_PKEY *pkey,
    const EVP_MD *md, u_char *sig, size_t siglen, ngx_str_t *data);
static ngx_int_t ngx_http_mcp_jwt_claims(ngx_pool_t *pool,
    ngx_http_mcp_jwt_policy_t *policy, json_t *claims, time_t now,
    ngx_http_mcp_jwt_t *jwt);
static ngx_int_t ngx_http_mcp_jwt_audience(json_t *aud, ngx_str_t *want);
static ngx_int_t ngx_http_mcp_jwt_scope(ngx_pool_t *pool, json_t *claims,
    ngx_str_t *scope);
static ngx_int_t ngx_http_mcp_jwt_name(ngx_str_t *name);


/* the base64url alphabet, without padding (RFC 7515, 2) */

static uint32_t  ngx_http_mcp_b64url[] = {
    0x00000000, /* 0000 0000 0000 0000  0000 0000 0000 0000 */

                /* ?>=< ;:98 7654 3210  /.-, +*)( '&%$ #"!  */
    0x03ff2000, /* 0000 0011 1111 1111  0010 0000 0000 0000 */

                /* _^]\ [ZYX WVUT SRQP  ONML KJIH GFED CBA@ */
    0x87fffffe, /* 1000 0111 1111 1111  1111 1111 1111 1110 */

                /*  ~}| {zyx wvut srqp  onml kjih gfed cba` */
    0x07fffffe, /* 0000 0111 1111 1111  1111 1111 1111 1110 */

    0x00000000, 0x00000000, 0x00000000, 0x00000000
};


char *
ngx_http_mcp_jwks_parse(ngx_pool_t *pool, ngx_log_t *log, u_char *text,
    size_t len, ngx_array_t *keys)
{
    char                *rv;
    json_t              *jwks, *list;
    ngx_uint_t           i, usable;
    json_error_t         error;
    ngx_http_mcp_jwk_t  *key;

    jwks = json_loadb((char *) text, len, JSON_REJECT_DUPLICATES, &error);

    if (jwks == NULL) {
        return "is not JSON";
    }

    list = json_object_get(jwks, "keys");

    if (!json_is_array(list)) {
        json_decref(jwks);
        return "has no \"keys\" array";
    }

    usable = 0;
    rv = NULL;

    for (i = 0; i < json_array_size(list); i++) {
        key = ngx_array_push(keys);
        if (key == NULL) {
            rv = "cannot be kept: out of memory";
            break;
        }

        ngx_memzero(key, sizeof(ngx_http_mcp_jwk_t));

        rv = ngx_http_mcp_jwk_parse(pool, log, json_array_get(list, i), i,
                                    key);
        if (rv != NULL) {
            keys->nelts--;
            break;
        }

        if (key->alg == 0) {
            /* a key for something else: another use, another algorithm */
            keys->nelts--;
            continue;
        }

        usable++;
    }

    json_decref(jwks);

    if (rv == NULL && usable == 0) {
        return "has no key for RS256, ES256 or EdDSA";
    }

    return rv;
}


static char *
ngx_http_mcp_jwk_parse(ngx_pool_t *pool, ngx_log_t *log, json_t *jwk,
    ngx_uint_t n, ngx_http_mcp_jwk_t *key)
{
    json_t              *kty, *crv, *use, *alg, *kid;
    u_char              *err;
    ngx_str_t            a, b;
    ngx_uint_t           want;
    ngx_pool_cleanup_t  *cln;

    if (!json_is_object(jwk)) {
        return "has a key that is not an object";
    }

    kty = json_object_get(jwk, "kty");
    crv = json_object_get(jwk, "crv");
    use = json_object_get(jwk, "use");
    alg = json_object_get(jwk, "alg");
    kid = json_object_get(jwk, "kid");

    if (!json_is_string(kty)
        || (crv && !json_is_string(crv))
        || (use && !json_is_string(use))
        || (alg && !json_is_string(alg))
        || (kid && (!json_is_string(kid)
                    || json_string_length(kid) > NGX_HTTP_MCP_JWT_KID_MAX)))
    {
        return "has a key with a malformed \"kty\", \"crv\", \"use\", "
               "\"alg\" or \"kid\"";
    }

    if (use && ngx_strcmp(json_string_value(use), "sig") != 0) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "mcp_oauth: JWKS key %ui is not for signatures, "
                      "skipped", n);
        return NULL;
    }

    if (ngx_strcmp(json_string_value(kty), "RSA") == 0) {
        want = NGX_HTTP_MCP_JWT_RS256;

    } else if (ngx_strcmp(json_string_value(kty), "EC") == 0
               && crv && ngx_strcmp(json_string_value(crv), "P-256") == 0)
    {
        want = NGX_HTTP_MCP_JWT_ES256;

    } else if (ngx_strcmp(json_string_value(kty), "OKP") == 0
               && crv && ngx_strcmp(json_string_value(crv), "Ed25519") == 0)
    {
        want = NGX_HTTP_MCP_JWT_EDDSA;

    } else {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mcp_oauth: JWKS key %ui (kty \"%s\") is of a type "
                      "not supported, skipped", n, json_string_value(kty));
        return NULL;
    }

    if (alg && ngx_http_mcp_jwt_alg(alg) != want) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mcp_oauth: JWKS key %ui is for \"%s\", which is not "
                      "supported, skipped", n, json_string_value(alg));
        return NULL;
    }

    if (kid) {
        key->kid.len = json_string_length(kid);
        key->kid.data = ngx_pnalloc(pool, key->kid.len + 1);
        if (key->kid.data == NULL) {
            return "cannot be kept: out of memory";
        }

        ngx_memcpy(key->kid.data, json_string_value(kid), key->kid.len + 1);
    }

    switch (want) {

    case NGX_HTTP_MCP_JWT_RS256:
        if (ngx_http_mcp_jwk_b64(pool, jwk, "n", &a) != NGX_OK
            || ngx_http_mcp_jwk_b64(pool, jwk, "e", &b) != NGX_OK)
        {
            return "has an RSA key without a valid \"n\" and \"e\"";
        }

        key->pkey = ngx_http_mcp_jwk_rsa(&a, &b);
        break;

    case NGX_HTTP_MCP_JWT_ES256:
        if (ngx_http_mcp_jwk_b64(pool, jwk, "x", &a) != NGX_OK
            || ngx_http_mcp_jwk_b64(pool, jwk, "y", &b) != NGX_OK
            || a.len != 32 || b.len != 32)
        {
            return "has a P-256 key without a valid \"x\" and \"y\"";
        }

        key->pkey = ngx_http_mcp_jwk_ec(&a, &b);
        break;

    default: /* NGX_HTTP_MCP_JWT_EDDSA */
        if (ngx_http_mcp_jwk_b64(pool, jwk, "x", &a) != NGX_OK
            || a.len != 32)
        {
            return "has an Ed25519 key without a valid \"x\"";
        }

        key->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
                                                a.data, a.len);
        break;
    }

    if (key->pkey == NULL) {
        ERR_clear_error();
        return "has a key OpenSSL refuses (not a valid public key)";
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        EVP_PKEY_free(key->pkey);
        return "cannot be kept: out of memory";
    }

    cln->handler = ngx_http_mcp_jwk_cleanup;
    cln->data = key->pkey;

    if (want == NGX_HTTP_MCP_JWT_RS256
        && (EVP_PKEY_get_bits(key->pkey) < 2048
            || EVP_PKEY_get_bits(key->pkey) > NGX_HTTP_MCP_JWT_RSA_MAX))
    {
        /*
         * RFC 7518, 3.3: 2048 bits at least; larger than 8192, each
         * check costs too much
         */

        err = ngx_pnalloc(pool, 80);
        if (err == NULL) {
            return "cannot be kept: out of memory";
        }

        *ngx_snprintf(err, 79, "has an RSA key of %d bits: "
                      "2048 to 8192 are needed",
                      EVP_PKEY_get_bits(key->pkey)) = '\0';

        return (char *) err;
    }

    /* an exponent of 1, an even modulus: anyone could sign */

    if (want == NGX_HTTP_MCP_JWT_RS256
        && ngx_http_mcp_jwk_check(key->pkey) != NGX_OK)
    {
        return "has an RSA key OpenSSL finds unsound (its exponent or "
               "modulus)";
    }

    key->alg = want;

    return NULL;
}


static ngx_int_t
ngx_http_mcp_jwk_b64(ngx_pool_t *pool, json_t *jwk, const char *name,
    ngx_str_t *out)
{
    json_t     *v;
    ngx_str_t   src;

    v = json_object_get(jwk, name);

    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > 2048)
    {
        return NGX_ERROR;
    }

    src.data = (u_char *) json_string_value(v);
    src.len = json_string_length(v);

    return ngx_http_mcp_jwt_decode(pool, src.data, src.data + src.len, out);
}


static EVP_PKEY *
ngx_http_mcp_jwk_rsa(ngx_str_t *n, ngx_str_t *e)
{
    BIGNUM          *bn, *be;
    EVP_PKEY        *pkey;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *pctx;
    OSSL_PARAM_BLD  *bld;

    pkey = NULL;
    params = NULL;
    pctx = NULL;

    bn = BN_bin2bn(n->data, n->len, NULL);
    be = BN_bin2bn(e->data, e->len, NULL);
    bld = OSSL_PARAM_BLD_new();

    if (bn == NULL || be == NULL || bld == NULL
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
    {
        goto done;
    }

    params = OSSL_PARAM_BLD_to_param(bld);
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);

    if (params == NULL || pctx == NULL
        || EVP_PKEY_fromdata_init(pctx) != 1
        || EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        pkey = NULL;
    }

done:

    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);

    return pkey;
}


static EVP_PKEY *
ngx_http_mcp_jwk_ec(ngx_str_t *x, ngx_str_t *y)
{
    EVP_PKEY      *pkey;
    EVP_PKEY_CTX  *pctx;
    OSSL_PARAM     params[3];
    u_char         point[65];

    /* the uncompressed point, which OpenSSL checks is on the curve */

    point[0] = 0x04;
    ngx_memcpy(point + 1, x->data, 32);
    ngx_memcpy(point + 33, y->data, 32);

    params[0] = OSSL_PARAM_construct_utf8_string(
                    OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  point, sizeof(point));
    params[2] = OSSL_PARAM_construct_end();

    pkey = NULL;

    pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);

    if (pctx == NULL
        || EVP_PKEY_fromdata_init(pctx) != 1
        || EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }

    EVP_PKEY_CTX_free(pctx);

    if (ngx_http_mcp_jwk_check(pkey) != NGX_OK) {
        EVP_PKEY_free(pkey);
        return NULL;
    }

    return pkey;
}


static ngx_int_t
ngx_http_mcp_jwk_check(EVP_PKEY *pkey)
{
    ngx_int_t      rc;
    EVP_PKEY_CTX  *check;

    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);

    rc = (check != NULL && EVP_PKEY_public_check(check) == 1)
         ? NGX_OK : NGX_ERROR;

    EVP_PKEY_CTX_free(check);
    ERR_clear_error();

    return rc;
}


static void
ngx_http_mcp_jwk_cleanup(void *data)
{
    EVP_PKEY_free(data);
}


char *
ngx_http_mcp_jwt_secret(u_char *data, size_t len, ngx_array_t *keys)
{
    ngx_http_mcp_jwk_t  *key;

    /* RFC 7518, 3.2: a key as long as the hash at least */

    if (len < NGX_HTTP_MCP_JWT_SECRET_MIN) {
        return "is shorter than 32 bytes";
    }

    key = ngx_array_push(keys);
    if (key == NULL) {
        return "cannot be kept: out of memory";
    }

    ngx_memzero(key, sizeof(ngx_http_mcp_jwk_t));

    key->alg = NGX_HTTP_MCP_JWT_HS256;
    key->secret.data = data;
    key->secret.len = len;

    return NULL;
}


ngx_uint_t
ngx_http_mcp_jwt_shaped(ngx_str_t *token)
{
    size_t   dots;
    u_char  *p, *last;

    /* three base64url parts: a JWS compact serialization */

    dots = 0;
    last = token->data + token->len;

    for (p = token->data; p < last; p++) {
        if (*p == '.') {
            dots++;
        }
    }

    return dots == 2;
}


ngx_int_t
ngx_http_mcp_jwt_verify(ngx_pool_t *pool, ngx_http_mcp_jwt_policy_t *policy,
    ngx_str_t *token, time_t now, ngx_http_mcp_jwt_t *jwt)
{
    json_t              *header, *claims, *v;
    u_char              *p, *last, *dot[2];
    ngx_int_t            rc;
    ngx_uint_t           i, n, alg, tried;
    json_error_t         error;
    ngx_http_mcp_jwk_t  *key;
    ngx_str_t            part[3], data, kid;

    ngx_memzero(jwt, sizeof(ngx_http_mcp_jwt_t));

    jwt->error = "malformed token";

    if (token->len == 0 || token->len > NGX_HTTP_MCP_JWT_MAX) {
        return NGX_DECLINED;
    }

    /* header "." payload "." signature, none of them empty */

    n = 0;
    last = token->data + token->len;

    for (p = token->data; p < last; p++) {
        if (*p == '.') {
            if (n == 2) {
                return NGX_DECLINED;
            }

            dot[n++] = p;
        }
    }

    if (n != 2
        || dot[0] == token->data
        || dot[1] == dot[0] + 1
        || dot[1] + 1 == last)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_jwt_decode(pool, token->data, dot[0], &part[0])
           != NGX_OK
        || ngx_http_mcp_jwt_decode(pool, dot[0] + 1, dot[1], &part[1])
           != NGX_OK
        || ngx_http_mcp_jwt_decode(pool, dot[1] + 1, last, &part[2])
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    header = json_loadb((char *) part[0].data, part[0].len,
                        JSON_REJECT_DUPLICATES, &error);

    if (!json_is_object(header)) {
        json_decref(header);
        return NGX_DECLINED;
    }

    alg = ngx_http_mcp_jwt_alg(json_object_get(header, "alg"));

    if (alg == 0) {
        json_decref(header);
        jwt->error = "unsupported algorithm";
        return NGX_DECLINED;
    }

    /* no extension is understood (RFC 7515, 4.1.11) */

    if (json_object_get(header, "crit")) {
        json_decref(header);
        jwt->error = "unsupported critical header";
        return NGX_DECLINED;
    }

    /* an access token, not some other signed object (RFC 9068, 2.1) */

    v = json_object_get(header, "typ");

    if (v && (!json_is_string(v)
              || (ngx_strcasecmp((u_char *) json_string_value(v),
                                 (u_char *) "JWT") != 0
                  && ngx_strcasecmp((u_char *) json_string_value(v),
                                    (u_char *) "at+jwt") != 0
                  && ngx_strcasecmp((u_char *) json_string_value(v),
                                    (u_char *) "application/at+jwt") != 0)))
    {
        json_decref(header);
        jwt->error = "not an access token";
        return NGX_DECLINED;
    }

    v = json_object_get(header, "kid");

    if (v && !json_is_string(v)) {
        json_decref(header);
        return NGX_DECLINED;
    }

    kid.len = v ? json_string_length(v) : 0;
    kid.data = ngx_pnalloc(pool, kid.len + 1);

    if (kid.data == NULL) {
        json_decref(header);
        jwt->error = "out of memory";
        return NGX_ERROR;
    }

    if (v) {
        ngx_memcpy(kid.data, json_string_value(v), kid.len);
    }

    json_decref(header);

    /* the signing input is the token up to its second dot */

    data.data = token->data;
    data.len = dot[1] - token->data;

    key = policy->keys.elts;
    tried = 0;
    rc = NGX_DECLINED;

    for (i = 0; i < policy->keys.nelts; i++) {

        if (key[i].alg != alg) {
            continue;
        }

        /* a kid names a key; the shared secret has none and takes any */

        if (kid.len && key[i].kid.len
            && (kid.len != key[i].kid.len
                || ngx_memcmp(kid.data, key[i].kid.data, kid.len) != 0))
        {
            continue;
        }

        if (kid.len && key[i].kid.len == 0 && alg != NGX_HTTP_MCP_JWT_HS256)
        {
            continue;
        }

        /* without a kid, a few keys: a signature check is not cheap */

        if (tried == NGX_HTTP_MCP_JWT_TRIES) {
            break;
        }

        tried++;

        rc = ngx_http_mcp_jwt_signature(pool, &key[i], &data, &part[2]);

        if (rc != NGX_DECLINED) {
            break;
        }
    }

    if (rc == NGX_ERROR) {
        jwt->error = "out of memory";
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        jwt->error = tried ? "invalid signature" : "unknown key";
        return NGX_DECLINED;
    }

    claims = json_loadb((char *) part[1].data, part[1].len,
                        JSON_REJECT_DUPLICATES, &error);

    if (!json_is_object(claims)) {
        json_decref(claims);
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_jwt_claims(pool, policy, claims, now, jwt);

    json_decref(claims);

    return rc;
}


static ngx_uint_t
ngx_http_mcp_jwt_alg(json_t *alg)
{
    const char  *name;

    if (!json_is_string(alg)) {
        return 0;
    }

    name = json_string_value(alg);

    if (ngx_strcmp(name, "RS256") == 0) {
        return NGX_HTTP_MCP_JWT_RS256;
    }

    if (ngx_strcmp(name, "ES256") == 0) {
        return NGX_HTTP_MCP_JWT_ES256;
    }

    if (ngx_strcmp(name, "EdDSA") == 0) {
        return NGX_HTTP_MCP_JWT_EDDSA;
    }

    if (ngx_strcmp(name, "HS256") == 0) {
        return NGX_HTTP_MCP_JWT_HS256;
    }

    /* "none" among them */

    return 0;
}


static ngx_int_t
ngx_http_mcp_jwt_decode(ngx_pool_t *pool, u_char *p, u_char *last,
    ngx_str_t *out)
{
    u_char     *q;
    ngx_str_t   src;

    /*
     * Unpadded base64url, its last character's unused bits zero: one
     * spelling per value (RFC 4648, 3.5), so that a token is one string
     */

    for (q = p; q < last; q++) {
        if (!(ngx_http_mcp_b64url[*q >> 5] & (1U << (*q & 0x1f)))) {
            return NGX_ERROR;
        }
    }

    if (last > p
        && (((last - p) % 4 == 2 && (ngx_http_mcp_b64url_value(last[-1])
                                     & 0x0f))
            || ((last - p) % 4 == 3 && (ngx_http_mcp_b64url_value(last[-1])
                                        & 0x03))))
    {
        return NGX_ERROR;
    }

    src.data = p;
    src.len = last - p;

    out->data = ngx_pnalloc(pool, ngx_base64_decoded_length(src.len) + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64url(out, &src) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_mcp_b64url_value(u_char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    return (c == '-') ? 62 : 63;
}


static ngx_int_t
ngx_http_mcp_jwt_signature(ngx_pool_t *pool, ngx_http_mcp_jwk_t *key,
    ngx_str_t *data, ngx_str_t *sig)
{
    int            n;
    BIGNUM        *r, *s;
    u_char        *der, *p;
    ECDSA_SIG     *es;
    ngx_int_t      rc;
    unsigned int   len;
    u_char         mac[EVP_MAX_MD_SIZE];

    switch (key->alg) {

    case NGX_HTTP_MCP_JWT_RS256:
        return ngx_http_mcp_jwt_pkey_verify(key->pkey, EVP_sha256(),
                                            sig->data, sig->len, data);

    case NGX_HTTP_MCP_JWT_EDDSA:
        if (sig->len != 64) {
            return NGX_DECLINED;
        }

        return ngx_http_mcp_jwt_pkey_verify(key->pkey, NULL,
                                            sig->data, sig->len, data);

    case NGX_HTTP_MCP_JWT_ES256:

        /* R || S, 32 bytes each (RFC 7518, 3.4), to OpenSSL's DER */

        if (sig->len != 64) {
            return NGX_DECLINED;
        }

        es = ECDSA_SIG_new();
        r = BN_bin2bn(sig->data, 32, NULL);
        s = BN_bin2bn(sig->data + 32, 32, NULL);

        if (es == NULL || r == NULL || s == NULL
            || ECDSA_SIG_set0(es, r, s) != 1)
        {
            ECDSA_SIG_free(es);
            BN_free(r);
            BN_free(s);
            ERR_clear_error();
            return NGX_ERROR;
        }

        n = i2d_ECDSA_SIG(es, NULL);
        der = (n > 0 && n <= 80) ? ngx_pnalloc(pool, n) : NULL;

        if (der == NULL) {
            ECDSA_SIG_free(es);
            ERR_clear_error();
            return NGX_ERROR;
        }

        p = der;
        n = i2d_ECDSA_SIG(es, &p);
        ECDSA_SIG_free(es);

        return ngx_http_mcp_jwt_pkey_verify(key->pkey, EVP_sha256(),
                                            der, n, data);

    default: /* NGX_HTTP_MCP_JWT_HS256 */
        if (sig->len != 32) {
            return NGX_DECLINED;
        }

        if (HMAC(EVP_sha256(), key->secret.data, key->secret.len,
                 data->data, data->len, mac, &len)
            == NULL)
        {
            ERR_clear_error();
            return NGX_ERROR;
        }

        rc = (len == 32 && CRYPTO_memcmp(mac, sig->data, 32) == 0)
             ? NGX_OK : NGX_DECLINED;

        return rc;
    }
}


static ngx_int_t
ngx_http_mcp_jwt_pkey_verify(EVP_PKEY *pkey, const EVP_MD *md, u_char *sig,
    size_t siglen, ngx_str_t *data)
{
    ngx_int_t    rc;
    EVP_MD_CTX  *mctx;

    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        ERR_clear_error();
        return NGX_ERROR;
    }

    rc = (EVP_DigestVerifyInit(mctx, NULL, md, NULL, pkey) == 1
          && EVP_DigestVerify(mctx, sig, siglen, data->data, data->len) == 1)
         ? NGX_OK : NGX_DECLINED;

    EVP_MD_CTX_free(mctx);

    /* a failed check leaves errors that nginx's TLS code must not see */

    ERR_clear_error();

    return rc;
}


static ngx_int_t
ngx_http_mcp_jwt_claims(ngx_pool_t *pool, ngx_http_mcp_jwt_policy_t *policy,
    json_t *claims, time_t now, ngx_http_mcp_jwt_t *jwt)
{
    double      exp, nbf;
    json_t     *v;
    ngx_str_t   name, *issuer;
    ngx_uint_t  i;

    /* RFC 9068, 4: exp, iss and aud are required, nbf honoured */

    v = json_object_get(claims, "exp");

    if (!json_is_number(v)) {
        jwt->error = "no expiry";
        return NGX_DECLINED;
    }

    exp = json_number_value(v);

    if ((double) now > exp + (double) policy->leeway) {
        jwt->error = "the token has expired";
        return NGX_DECLINED;
    }

    v = json_object_get(claims, "nbf");

    if (v) {
        if (!json_is_number(v)) {
            return NGX_DECLINED;
        }

        nbf = json_number_value(v);

        if ((double) now + (double) policy->leeway < nbf) {
            jwt->error = "the token is not valid yet";
            return NGX_DECLINED;
        }
    }

    v = json_object_get(claims, "iss");

    if (!json_is_string(v)) {
        jwt->error = "wrong issuer";
        return NGX_DECLINED;
    }

    issuer = policy->issuers.elts;

    for (i = 0; i < policy->issuers.nelts; i++) {
        if (issuer[i].len == json_string_length(v)
            && ngx_memcmp(issuer[i].data, json_string_value(v),
                          issuer[i].len) == 0)
        {
            break;
        }
    }

    if (i == policy->issuers.nelts) {
        jwt->error = "wrong issuer";
        return NGX_DECLINED;
    }

    jwt->issuer = i;

    /* RFC 8707: the token was issued for this resource */

    if (ngx_http_mcp_jwt_audience(json_object_get(claims, "aud"),
                                  &policy->audience)
        != NGX_OK)
    {
        jwt->error = "wrong audience";
        return NGX_DECLINED;
    }

    v = json_object_get(claims, (char *) policy->client_claim.data);

    if (!json_is_string(v)) {
        jwt->error = "no client claim";
        return NGX_DECLINED;
    }

    name.data = (u_char *) json_string_value(v);
    name.len = json_string_length(v);

    if (ngx_http_mcp_jwt_name(&name) != NGX_OK) {
        jwt->error = "unusable client claim";
        return NGX_DECLINED;
    }

    jwt->client.data = ngx_pnalloc(pool, name.len);
    if (jwt->client.data == NULL) {
        jwt->error = "out of memory";
        return NGX_ERROR;
    }

    ngx_memcpy(jwt->client.data, name.data, name.len);
    jwt->client.len = name.len;

    if (ngx_http_mcp_jwt_scope(pool, claims, &jwt->scope) != NGX_OK) {
        jwt->error = "malformed scope";
        return NGX_DECLINED;
    }

    /* far futures are cut short: the cache keeps tokens until then */

    exp += (double) policy->leeway;
    jwt->expires = (exp > (double) now + 86400 * 366)
                   ? now + 86400 * 366 : (time_t) exp;

    jwt->error = NULL;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_jwt_audience(json_t *aud, ngx_str_t *want)
{
    json_t  *v;
    size_t   i;

    if (json_is_string(aud)) {
        return (json_string_length(aud) == want->len
                && ngx_memcmp(json_string_value(aud), want->data, want->len)
                   == 0) ? NGX_OK : NGX_DECLINED;
    }

    if (!json_is_array(aud)) {
        return NGX_DECLINED;
    }

    json_array_foreach(aud, i, v) {
        if (json_is_string(v)
            && json_string_length(v) == want->len
            && ngx_memcmp(json_string_value(v), want->data, want->len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mcp_jwt_scope(ngx_pool_t *pool, json_t *claims, ngx_str_t *scope)
{
    json_t  *v, *s;
    size_t   i, len;
    u_char  *p, *q, *last;

    /*
     * "scope", space-separated (RFC 8693, 4.2; RFC 9068, 2.2.3); or
     * "scp", an array some servers send instead.  Scope tokens are
     * printable ASCII without quotes or backslashes (RFC 6749, 3.3).
     */

    v = json_object_get(claims, "scope");

    if (v == NULL) {
        v = json_object_get(claims, "scp");
    }

    if (v == NULL) {
        ngx_str_set(scope, "");
        return NGX_OK;
    }

    if (json_is_string(v)) {
        len = json_string_length(v);

    } else if (json_is_array(v)) {
        len = 0;

        json_array_foreach(v, i, s) {
            if (!json_is_string(s) || json_string_length(s) == 0
                || ngx_strlchr((u_char *) json_string_value(s),
                               (u_char *) json_string_value(s)
                               + json_string_length(s), ' '))
            {
                return NGX_DECLINED;
            }

            len += json_string_length(s) + 1;
        }

    } else {
        return NGX_DECLINED;
    }

    if (len > NGX_HTTP_MCP_JWT_SCOPE_MAX) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    scope->data = p;

    if (json_is_string(v)) {
        p = ngx_cpymem(p, json_string_value(v), len);

    } else {
        json_array_foreach(v, i, s) {
            if (i) {
                *p++ = ' ';
            }

            p = ngx_cpymem(p, json_string_value(s), json_string_length(s));
        }
    }

    scope->len = p - scope->data;

    last = p;

    for (q = scope->data; q < last; q++) {
        if (*q != ' ' && (*q < 0x21 || *q > 0x7e || *q == '"' || *q == '\\'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_jwt_name(ngx_str_t *name)
{
    u_char  *p, *last;

    /* it is logged, quoted, and kept with sessions */

    if (name->len == 0 || name->len > NGX_HTTP_MCP_JWT_CLIENT_MAX) {
        return NGX_DECLINED;
    }

    last = name->data + name->len;

    for (p = name->data; p < last; p++) {
        if (*p < 0x21 || *p == 0x7f || *p == '"' || *p == '\\') {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}
