
/*
 * Copyright (C) ngx_mcp_module authors
 */


#ifndef _NGX_RUNTIME_H_INCLUDED_
#define _NGX_RUNTIME_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * The little of nginx's run time that the protocol core needs outside a
 * server: the page size for pools, a cycle with a log, and a log that
 * writes to stderr.
 */

void ngx_runtime_init(void);
ngx_pool_t *ngx_runtime_pool(void);


#endif /* _NGX_RUNTIME_H_INCLUDED_ */
