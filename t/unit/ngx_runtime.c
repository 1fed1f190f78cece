
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_runtime.h"


/*
 * nginx's own ngx_log.c and ngx_cycle.c bring in the whole server; the
 * core needs only a cycle that holds a log and a function to write log
 * lines, both defined here.
 */


volatile ngx_cycle_t  *ngx_cycle;

static ngx_log_t       ngx_runtime_log;
static ngx_cycle_t     ngx_runtime_cycle;


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;
    u_char    line[NGX_MAX_ERROR_STR];

    last = line + sizeof(line) - 1;

    p = ngx_slprintf(line, last, "# nginx log level %ui: ", level);

    va_start(args, fmt);
    p = ngx_vslprintf(p, last, fmt, args);
    va_end(args);

    if (err) {
        p = ngx_slprintf(p, last, " (%d)", err);
    }

    *p++ = '\n';

    (void) fwrite(line, 1, p - line, stderr);
}


void
ngx_runtime_init(void)
{
    ngx_uint_t  n;

    ngx_pagesize = getpagesize();
    ngx_cacheline_size = NGX_CPU_CACHE_LINE;

    for (n = ngx_pagesize, ngx_pagesize_shift = 0; n >>= 1;
         ngx_pagesize_shift++)
    {
        /* void */
    }

    ngx_runtime_log.log_level = NGX_LOG_ERR;

    ngx_runtime_cycle.log = &ngx_runtime_log;
    ngx_cycle = &ngx_runtime_cycle;
}


ngx_pool_t *
ngx_runtime_pool(void)
{
    return ngx_create_pool(NGX_DEFAULT_POOL_SIZE, &ngx_runtime_log);
}
