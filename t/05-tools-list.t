# tools/list: tool definitions per protocol revision (title and
# outputSchema only from 2025-06-18 on), the default inputSchema, and
# cursor-based pagination with mcp_tools_page_size.
#
# Spec references: 2025-06-18 server/tools#listing-tools, server/tools#tool
# (title, outputSchema added in 2025-06-18), 2025-03-26 server/tools#tool;
# 2025-06-18 server/utilities/pagination (opaque cursors, nextCursor absent
# on the last page, "Invalid cursors SHOULD result in an error with code
# -32602"); 2025-11-25 server/tools#listing-tools.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use JSON::PP ();

my $root = repo_root();
my $json = JSON::PP->new->utf8->canonical;
sub schema { $json->decode(do { local (@ARGV, $/) = "$root/t/data/$_[0]"; <> }) }

# --- walking every page (2025-06-18 server/utilities/pagination) -------------
{
    my $ng = start_nginx(http_config => 'mcp_session_zone zone=mcp:1m;', config => <<'EOC');
location = /paged {
    mcp;
    mcp_tools_page_size 2;
    mcp_tool t1 /t/1 "title=Tool one" output_schema=$TEST_ROOT/t/data/add.output.json;
    mcp_tool t2 /t/2 "description=Tool two";
    mcp_tool t3 /t/3 input_schema=$TEST_ROOT/t/data/echo.input.json;
    mcp_tool t4 /t/4;
    mcp_tool t5 /t/5 "title=Tool five";
}
location = /paged3 {
    mcp;
    mcp_tools_page_size 3;
    mcp_tool t1 /t/1;
    mcp_tool t2 /t/2;
    mcp_tool t3 /t/3;
    mcp_tool t4 /t/4;
    mcp_tool t5 /t/5;
    mcp_tool t6 /t/6;
}
EOC
    my $port = $ng->port;
    my %expected_defs = (
        t1 => { name => 't1', title => 'Tool one', inputSchema => { type => 'object' },
                outputSchema => schema('add.output.json') },
        t2 => { name => 't2', description => 'Tool two', inputSchema => { type => 'object' } },
        t3 => { name => 't3', inputSchema => schema('echo.input.json') },
        t4 => { name => 't4', inputSchema => { type => 'object' } },
        t5 => { name => 't5', title => 'Tool five', inputSchema => { type => 'object' } },
    );

    for my $version (qw(2025-03-26 2025-06-18 2025-11-25)) {
        my ($sid) = mcp_initialize(port => $port, path => '/paged', version => $version);
        my (@names, @sizes, @cursors, @defs, @errors);
        my $cursor;
        my $id = 100;
        for my $page (1 .. 10) {   # 3 pages expected; the bound stops a loop that never ends
            my $msg = { jsonrpc => '2.0', id => ++$id, method => 'tools/list',
                        (defined $cursor ? (params => { cursor => $cursor }) : ()) };
            my $r = json_rpc(port => $port, path => '/paged', session => $sid, version => $version,
                             message => $msg);
            my $res = ref $r->{json} eq 'HASH' ? $r->{json}{result} : undef;
            if (($r->status // 0) != 200 || ref $res ne 'HASH' || $r->{json}{id} != $id) {
                push @errors, "page $page: " . ($r->status // $r->error) . ' ' . $r->body;
                last;
            }
            push @sizes, scalar @{ $res->{tools} };
            push @names, map { $_->{name} } @{ $res->{tools} };
            push @defs, @{ $res->{tools} };
            last unless exists $res->{nextCursor};
            $cursor = $res->{nextCursor};
            push @errors, "page $page: nextCursor is not a non-empty string" unless defined $cursor && !ref $cursor
                                                                                && length $cursor;
            push @cursors, $cursor;
        }
        is_deeply(\@errors, [], "$version page walk: every page answers");
        is_deeply(\@names, [qw(t1 t2 t3 t4 t5)], "$version page walk: all five tools once, in order");
        is_deeply(\@sizes, [2, 2, 1], "$version page walk: pages of 2, 2 and 1 tools, no nextCursor on the last");
        my %distinct = map { $_ => 1 } @cursors;
        is(scalar(keys %distinct), 2, "$version page walk: two distinct cursors");

        my @want = map {
            my %d = %{ $expected_defs{$_} };
            delete @d{qw(title outputSchema)} if $version eq '2025-03-26';
            \%d;
        } qw(t1 t2 t3 t4 t5);
        is(Test::McpNginx::json_equal_diff(\@want, \@defs), undef,
           "$version page walk: tool definitions" . ($version eq '2025-03-26' ? ' without title and outputSchema' : ''));

        # a cursor is not consumed: the same cursor gives the same page again
        if (@cursors) {
            my @again;
            for (1 .. 2) {
                my $r = json_rpc(port => $port, path => '/paged', session => $sid, version => $version,
                                 message => { jsonrpc => '2.0', id => 1, method => 'tools/list',
                                              params => { cursor => $cursors[0] } });
                push @again, $r->body;
            }
            is($again[0], $again[1], "$version page walk: a cursor can be used again");
            like($again[0], qr/^\{"jsonrpc":"2.0","id":1,"result":\{"tools":\[\{"name":"t3"/,
                 "$version page walk: the first cursor leads to the second page");
        }
    }

    # page size 3 over 6 tools: the last page is full and still has no nextCursor
    my ($sid) = mcp_initialize(port => $port, path => '/paged3', version => '2025-06-18');
    my $r = json_rpc(port => $port, path => '/paged3', session => $sid, version => '2025-06-18',
                     message => '{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
    is_deeply([map { $_->{name} } @{ $r->{json}{result}{tools} }], [qw(t1 t2 t3)], 'page size 3: first page');
    ok(defined $r->{json}{result}{nextCursor}, 'page size 3: first page has nextCursor');
    $r = json_rpc(port => $port, path => '/paged3', session => $sid, version => '2025-06-18',
                  message => { jsonrpc => '2.0', id => 2, method => 'tools/list',
                               params => { cursor => $r->{json}{result}{nextCursor} } });
    is_deeply([map { $_->{name} } @{ $r->{json}{result}{tools} }], [qw(t4 t5 t6)], 'page size 3: second page');
    ok(!exists $r->{json}{result}{nextCursor}, 'page size 3: a full last page has no nextCursor');

    $ng->stop;
    unlike($ng->error_log, qr/\[(?:alert|crit|emerg)\]/, 'page walk: no alert/crit/emerg logged');
}

run_blocks();

__DATA__

=== DEFAULTS
--- config
location = /mcp {
    mcp;
    mcp_tool add /t/add "title=Adder" "description=Add two numbers"
             input_schema=$TEST_ROOT/t/data/add.input.json
             output_schema=$TEST_ROOT/t/data/add.output.json;
    mcp_tool echo /t/echo "description=Echo a message" input_schema=$TEST_ROOT/t/data/echo.input.json;
    mcp_tool bare /t/bare;
    mcp_tool titled /t/titled "title=Only a title" output_schema=$TEST_ROOT/t/data/add.output.json;
}
location = /paged {
    mcp;
    mcp_tools_page_size 2;
    mcp_tool t1 /t/1;
    mcp_tool t2 /t/2;
    mcp_tool t3 /t/3;
    mcp_tool t4 /t/4;
    mcp_tool t5 /t/5;
}
location = /unpaged {
    mcp;
    mcp_tools_page_size 0;
    mcp_tool t1 /t/1;
    mcp_tool t2 /t/2;
    mcp_tool t3 /t/3;
    mcp_tool t4 /t/4;
    mcp_tool t5 /t/5;
}
location = /none {
    mcp;
}

=== TEST 1: tools/list at 2025-06-18 with title, description, schemas (2025-06-18 server/tools#listing-tools)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[
 {"name":"add","title":"Adder","description":"Add two numbers","inputSchema":{"type":"object","properties":{"a":{"type":"number","description":"first addend"},"b":{"type":"number","description":"second addend"}},"required":["a","b"],"additionalProperties":false},"outputSchema":{"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]}},
 {"name":"echo","description":"Echo a message","inputSchema":{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}},
 {"name":"bare","inputSchema":{"type":"object"}},
 {"name":"titled","title":"Only a title","inputSchema":{"type":"object"},"outputSchema":{"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]}}]}}

=== TEST 2: tools/list at 2025-11-25 with title, description, schemas (2025-11-25 server/tools#listing-tools)
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[
 {"name":"add","title":"Adder","description":"Add two numbers","inputSchema":{"type":"object","properties":{"a":{"type":"number","description":"first addend"},"b":{"type":"number","description":"second addend"}},"required":["a","b"],"additionalProperties":false},"outputSchema":{"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]}},
 {"name":"echo","description":"Echo a message","inputSchema":{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}},
 {"name":"bare","inputSchema":{"type":"object"}},
 {"name":"titled","title":"Only a title","inputSchema":{"type":"object"},"outputSchema":{"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]}}]}}

=== TEST 3: tools/list at 2025-03-26 has no title and no outputSchema (2025-03-26 server/tools#tool)
--- init: 2025-03-26
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[
 {"name":"add","description":"Add two numbers","inputSchema":{"type":"object","properties":{"a":{"type":"number","description":"first addend"},"b":{"type":"number","description":"second addend"}},"required":["a","b"],"additionalProperties":false}},
 {"name":"echo","description":"Echo a message","inputSchema":{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}},
 {"name":"bare","inputSchema":{"type":"object"}},
 {"name":"titled","inputSchema":{"type":"object"}}]}}
--- response_body_unlike: "title"|"outputSchema"

=== TEST 4: tools/list with empty params (2025-06-18 server/tools#listing-tools)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[
 {"name":"add","title":"Adder","description":"Add two numbers","inputSchema":{"type":"object","properties":{"a":{"type":"number","description":"first addend"},"b":{"type":"number","description":"second addend"}},"required":["a","b"],"additionalProperties":false},"outputSchema":{"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]}},
 {"name":"echo","description":"Echo a message","inputSchema":{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}},
 {"name":"bare","inputSchema":{"type":"object"}},
 {"name":"titled","title":"Only a title","inputSchema":{"type":"object"},"outputSchema":{"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]}}]}}

=== TEST 5: tools/list with _meta in params (2025-06-18 basic#_meta)
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"progressToken":"p1"}}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[
 {"name":"add","title":"Adder","description":"Add two numbers","inputSchema":{"type":"object","properties":{"a":{"type":"number","description":"first addend"},"b":{"type":"number","description":"second addend"}},"required":["a","b"],"additionalProperties":false},"outputSchema":{"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]}},
 {"name":"echo","description":"Echo a message","inputSchema":{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}},
 {"name":"bare","inputSchema":{"type":"object"}},
 {"name":"titled","title":"Only a title","inputSchema":{"type":"object"},"outputSchema":{"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]}}]}}

=== TEST 6: tools/list with a string id (2025-06-18 basic#requests)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":"list-1","method":"tools/list"}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":"list-1","result":{"tools":["*ANY*","*ANY*","*ANY*","*ANY*"]}}

=== TEST 7: a location without tools lists none (2025-06-18 server/tools#listing-tools)
--- init: 2025-06-18
--- init_path: /none
--- request
POST /none
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[]}}

=== TEST 8: first page with mcp_tools_page_size 2 has two tools and a nextCursor (2025-06-18 server/utilities/pagination)
--- init: 2025-06-18
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"t1"},{"name":"t2"}],"nextCursor":"*ANY*"}}
--- response_body_like: "nextCursor":"[^"]+"

=== TEST 9: mcp_tools_page_size 0 lists all tools on one page (2025-06-18 server/utilities/pagination)
--- init: 2025-06-18
--- init_path: /unpaged
--- request
POST /unpaged
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"t1","inputSchema":{"type":"object"}},{"name":"t2","inputSchema":{"type":"object"}},{"name":"t3","inputSchema":{"type":"object"}},{"name":"t4","inputSchema":{"type":"object"}},{"name":"t5","inputSchema":{"type":"object"}}]}}

=== TEST 10: default page size (100) lists 4 tools without nextCursor (2025-06-18 server/utilities/pagination)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"result":{"tools":["*ANY*","*ANY*","*ANY*","*ANY*"]}}
--- response_body_unlike: nextCursor

=== TEST 11: cursor that is a garbage string -> -32602 (2025-06-18 server/utilities/pagination#error-handling)
--- init: 2025-06-18
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"not a cursor!"}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 12: cursor that is an integer -> -32602 (2025-06-18 server/utilities/pagination#error-handling)
--- init: 2025-06-18
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":2}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 13: cursor that is a forged base64url of "tools:99" -> -32602 (2025-06-18 server/utilities/pagination#error-handling)
--- init: 2025-06-18
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"dG9vbHM6OTk"}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 14: cursor that is an empty string -> -32602 (2025-06-18 server/utilities/pagination#error-handling)
--- init: 2025-06-18
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":""}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 15: cursor that is a boolean -> -32602 (2025-06-18 server/utilities/pagination#error-handling)
--- init: 2025-06-18
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":true}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 16: cursor that is an object -> -32602 (2025-06-18 server/utilities/pagination#error-handling)
--- init: 2025-06-18
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":{"offset":2}}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 17: cursor that is a forged base64url of "tools:5" (one past the end) -> -32602 (2025-06-18 server/utilities/pagination#error-handling)
--- init: 2025-06-18
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"dG9vbHM6NQ"}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 18: cursor that is a forged base64url of "tools:0" -> -32602 (2025-06-18 server/utilities/pagination#error-handling)
--- init: 2025-06-18
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"dG9vbHM6MA"}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 19: cursor that is a forged base64url of "tools:-1" -> -32602 (2025-06-18 server/utilities/pagination#error-handling)
--- init: 2025-06-18
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"dG9vbHM6LTE"}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 20: cursor that is a forged base64url of "tools:2x" -> -32602 (2025-06-18 server/utilities/pagination#error-handling)
--- init: 2025-06-18
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"dG9vbHM6Mng"}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 21: cursor that is a forged base64url of "other:2" -> -32602 (2025-06-18 server/utilities/pagination#error-handling)
--- init: 2025-06-18
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"b3RoZXI6Mg"}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 22: cursor sent to a location with a single page that is out of range -> -32602 (2025-06-18 server/utilities/pagination#error-handling)
--- init: 2025-11-25
--- init_path: /none
--- request
POST /none
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"dG9vbHM6Mg"}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 23: cursor at 2025-03-26 is checked too (2025-03-26 server/utilities/pagination)
--- init: 2025-03-26
--- init_path: /paged
--- request
POST /paged
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"garbage"}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"*ANY*"}}
