package Test::McpJwt;

# Keys and JSON Web Tokens for the JWT tests of the MCP module.  Every key
# and every signature comes from the openssl command line tool; Perl only
# does the JSON, the base64url and the bits of DER in between.

use strict;
use warnings;

use Carp ();
use Digest::SHA ();
use Exporter ();
use File::Spec ();
use JSON::PP ();
use MIME::Base64 ();
use POSIX ();

our $VERSION   = '1.00';
our @ISA       = ('Exporter');
our @EXPORT    = qw(jwt_keys jwt_sign jwt_sign_raw jwt_forge);
our @EXPORT_OK = qw(b64url b64url_decode ecdsa_der_to_raw ecdsa_raw_to_der
                    forge_kinds);

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

# the kid a token of each algorithm carries unless told otherwise
my %DEFAULT_KID = (RS256 => 'rsa1', ES256 => 'ec1', EdDSA => 'ed1');

# the fixed heads of the DER SubjectPublicKeyInfo of these keys
my $P256_SPKI_HEAD = pack 'H*', '3059301306072a8648ce3d020106082a8648ce3d030107034200';
my $ED25519_SPKI_HEAD = pack 'H*', '302a300506032b6570032100';

# ---------------------------------------------------------------------------
# small utilities

sub b64url {
    my $s = MIME::Base64::encode_base64url($_[0]);
    $s =~ s/=+\z//;
    return $s;
}

sub b64url_decode { MIME::Base64::decode_base64url($_[0]) }

sub _read {
    my ($path) = @_;
    open my $fh, '<:raw', $path or Carp::croak("cannot read $path: $!");
    local $/;
    my $data = <$fh>;
    return $data // '';
}

sub _write {
    my ($path, $data) = @_;
    open my $fh, '>:raw', $path or Carp::croak("cannot write $path: $!");
    print {$fh} $data or Carp::croak("cannot write $path: $!");
    close $fh or Carp::croak("cannot write $path: $!");
}

# Runs openssl with @args (no shell), its standard error kept in $dir; returns
# its standard output, croaks when it fails.
sub _openssl {
    my ($dir, @args) = @_;
    my ($out, $err) = ("$dir/.openssl.out", "$dir/.openssl.err");
    my $pid = fork // Carp::croak("fork: $!");
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>:raw', $out;
        open STDERR, '>', $err;
        exec 'openssl', @args or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    my $status = $?;
    my $stdout = _read($out);
    my $stderr = -e $err ? _read($err) : '';
    unlink $out, $err;
    Carp::croak("openssl @args failed (status $status): $stderr") if $status;
    return $stdout;
}

sub _unsigned_be {         # big-endian bytes of a hex number, no leading zeros
    my ($hex) = @_;
    $hex = "0$hex" if length($hex) % 2;
    my $bytes = pack 'H*', $hex;
    $bytes =~ s/^\0+(?=.)//s;
    return $bytes;
}

# the public parts of an RSA key: (n, e) as big-endian bytes
sub _rsa_public {
    my ($dir, $pem) = @_;
    my ($mod) = _openssl($dir, 'rsa', '-in', $pem, '-noout', '-modulus') =~ /^Modulus=([0-9A-Fa-f]+)$/m
        or Carp::croak("no modulus in the output of openssl rsa for $pem");
    my $text = _openssl($dir, 'rsa', '-in', $pem, '-noout', '-text');
    my ($e) = $text =~ /publicExponent:\s*\d+\s*\(0x([0-9A-Fa-f]+)\)/
        or Carp::croak("no public exponent in the output of openssl rsa for $pem");
    return (_unsigned_be($mod), _unsigned_be($e));
}

# Makes $name.pem (private), $name.pub.pem and $name.pub.der in $dir.
sub _genkey {
    my ($dir, $name, @genpkey) = @_;
    my $pem = "$dir/$name.pem";
    _openssl($dir, 'genpkey', @genpkey, '-out', $pem);
    _openssl($dir, 'pkey', '-in', $pem, '-pubout', '-out', "$dir/$name.pub.pem");
    _openssl($dir, 'pkey', '-in', $pem, '-pubout', '-outform', 'DER', '-out', "$dir/$name.pub.der");
    return { pem => $pem, pub_pem => "$dir/$name.pub.pem", pub_der => "$dir/$name.pub.der" };
}

sub _rsa_jwk {
    my ($dir, $key) = @_;
    my ($n, $e) = _rsa_public($dir, $key->{pem});
    $key->{bits} = 8 * length $n;
    return { kty => 'RSA', kid => $key->{kid}, use => 'sig', alg => 'RS256',
             n => b64url($n), e => b64url($e) };
}

# ---------------------------------------------------------------------------
# keys

# Makes the keys of the JWT tests in $dir (see the POD at the end).
sub jwt_keys {
    my ($dir) = @_;
    Carp::croak("jwt_keys: $dir is not a directory") unless defined $dir && -d $dir;
    $dir = File::Spec->rel2abs($dir);
    my %k = (dir => $dir);

    $k{rsa} = _genkey($dir, 'rsa', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048');
    $k{rogue} = _genkey($dir, 'rogue', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048');
    $k{weak} = _genkey($dir, 'weak', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024');
    $k{ec} = _genkey($dir, 'ec', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256');
    $k{ed} = _genkey($dir, 'ed', '-algorithm', 'ED25519');
    @{ $k{$_->[0]} }{qw(kid alg)} = @$_[1, 2]
        for [rsa => 'rsa1', 'RS256'], [rogue => 'rogue', 'RS256'], [weak => 'weak1', 'RS256'],
            [ec => 'ec1', 'ES256'], [ed => 'ed1', 'EdDSA'];

    my $rsa_jwk = _rsa_jwk($dir, $k{rsa});

    my $ec_der = _read($k{ec}{pub_der});
    Carp::croak('the EC public key is not an uncompressed P-256 point')
        unless length $ec_der == 91 && substr($ec_der, 0, 26) eq $P256_SPKI_HEAD
               && substr($ec_der, 26, 1) eq "\x04";
    my $ec_jwk = { kty => 'EC', crv => 'P-256', kid => 'ec1', use => 'sig', alg => 'ES256',
                   x => b64url(substr $ec_der, 27, 32), y => b64url(substr $ec_der, 59, 32) };

    my $ed_der = _read($k{ed}{pub_der});
    Carp::croak('the Ed25519 public key is not 32 bytes')
        unless length $ed_der == 44 && substr($ed_der, 0, 12) eq $ED25519_SPKI_HEAD;
    my $ed_jwk = { kty => 'OKP', crv => 'Ed25519', kid => 'ed1', use => 'sig', alg => 'EdDSA',
                   x => b64url(substr $ed_der, 12) };

    $k{jwks} = "$dir/jwks.json";
    _write($k{jwks}, $JSON->encode({ keys => [$rsa_jwk, $ec_jwk, $ed_jwk] }));
    $k{jwks_keys} = { rsa1 => $rsa_jwk, ec1 => $ec_jwk, ed1 => $ed_jwk };
    $k{weak_jwks} = "$dir/weak.json";
    _write($k{weak_jwks}, $JSON->encode({ keys => [_rsa_jwk($dir, $k{weak})] }));

    # The shared secret: raw random bytes.  Neither end is white space or NUL,
    # so a reader that trims the file reads the same secret.
    my $secret;
    for (1 .. 100) {
        $secret = _openssl($dir, 'rand', '48');
        last if length $secret == 48 && $secret !~ /\A[\s\0]|[\s\0]\z/;
        undef $secret;
    }
    Carp::croak('openssl rand gave no usable secret') unless defined $secret;
    $k{hs_key} = "$dir/hs.key";
    $k{hs_secret} = $secret;
    _write($k{hs_key}, $secret);
    $k{hs_short} = "$dir/hs-short.key";
    _write($k{hs_short}, substr(b64url(_openssl($dir, 'rand', '24')), 0, 16));

    $k{rsa_pub_pem} = $k{rsa}{pub_pem};
    $k{rsa_pub_der} = $k{rsa}{pub_der};
    $k{kids} = { %DEFAULT_KID };
    return \%k;
}

# ---------------------------------------------------------------------------
# signatures

# DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs) to r||s of $size bytes each
sub ecdsa_der_to_raw {
    my ($der, $size) = @_;
    $size ||= 32;
    my $pos = 0;
    my $len = sub {                   # a DER length at $pos
        my $l = ord substr($der, $pos++, 1);
        return $l if $l < 0x80;
        my $n = $l & 0x7f;
        Carp::croak('bad DER length') if $n < 1 || $n > 2 || $pos + $n > length $der;
        $l = 0;
        $l = $l * 256 + ord substr($der, $pos++, 1) for 1 .. $n;
        return $l;
    };
    Carp::croak('ECDSA signature: no DER SEQUENCE') unless substr($der, $pos++, 1) eq "\x30";
    my $seq = $len->();
    Carp::croak('ECDSA signature: bad SEQUENCE length') unless $pos + $seq == length $der;
    my $raw = '';
    for my $which ('r', 's') {
        Carp::croak("ECDSA signature: $which is no INTEGER")
            unless $pos < length $der && substr($der, $pos++, 1) eq "\x02";
        my $l = $len->();
        Carp::croak("ECDSA signature: $which overruns") if $pos + $l > length $der;
        my $v = substr $der, $pos, $l;
        $pos += $l;
        $v =~ s/^\0+//;
        Carp::croak("ECDSA signature: $which is longer than $size bytes") if length $v > $size;
        $raw .= ("\0" x ($size - length $v)) . $v;
    }
    Carp::croak('ECDSA signature: bytes after the SEQUENCE') if $pos != length $der;
    return $raw;
}

# r||s to DER (for openssl's verification)
sub ecdsa_raw_to_der {
    my ($raw) = @_;
    Carp::croak('ECDSA signature: odd length') if length($raw) % 2;
    my $half = length($raw) / 2;
    my $body = '';
    for my $part (0, $half) {
        my $v = substr $raw, $part, $half;
        $v =~ s/^\0+(?=.)//s;
        $v = "\0$v" if ord($v) & 0x80;
        $body .= "\x02" . chr(length $v) . $v;
    }
    return "\x30" . chr(length $body) . $body;
}

my $SEQ = 0;

# The signature of $input by alg $alg: keys from $keys, or the one named by
# $o{key} (a key of jwt_keys: rsa, rogue, weak, ec, ed).  $o{ecdsa_der} keeps
# ES256's DER form; $o{hmac_key} replaces the HS256 secret.
sub _signature {
    my ($keys, $alg, $input, %o) = @_;
    return '' if $alg eq 'none';
    if ($alg eq 'HS256') {
        my $secret = $o{hmac_key} // $keys->{hs_secret};
        return Digest::SHA::hmac_sha256($input, $secret);
    }
    my $dir = $keys->{dir};
    my $name = $o{key} // ($alg eq 'RS256' ? 'rsa' : $alg eq 'ES256' ? 'ec'
                           : $alg eq 'EdDSA' ? 'ed' : Carp::croak("jwt_sign: no key for alg $alg"));
    my $key = $keys->{$name} or Carp::croak("jwt_sign: no key \"$name\"");
    my $n = ++$SEQ;
    my ($in, $sigf) = ("$dir/.sign-$$-$n.in", "$dir/.sign-$$-$n.sig");
    _write($in, $input);
    if ($alg eq 'EdDSA') {
        _openssl($dir, 'pkeyutl', '-sign', '-rawin', '-inkey', $key->{pem}, '-in', $in, '-out', $sigf);
    } else {
        _openssl($dir, 'dgst', '-sha256', '-sign', $key->{pem}, '-out', $sigf, $in);
    }
    my $sig = _read($sigf);
    unlink $in, $sigf;
    return $alg eq 'ES256' && !$o{ecdsa_der} ? ecdsa_der_to_raw($sig, 32) : $sig;
}

sub _register_secret {
    my ($token) = @_;
    my $reg = Test::McpNginx->can('register_secret');
    $reg->($token) if $reg;
    return $token;
}

# A compact JWS of exactly this header and payload text, signed as $alg says
# (the header's own alg is not looked at).
sub jwt_sign_raw {
    my ($keys, $alg, $header_text, $payload_text, %o) = @_;
    my $input = b64url($header_text) . '.' . b64url($payload_text);
    return _register_secret("$input." . b64url(_signature($keys, $alg, $input, %o)));
}

sub _header {
    my ($alg, $extra) = @_;
    my %h = (alg => $alg, typ => 'JWT',
             (defined $DEFAULT_KID{$alg} ? (kid => $DEFAULT_KID{$alg}) : ()));
    for my $k (keys %{ $extra || {} }) {
        if (defined $extra->{$k}) { $h{$k} = $extra->{$k} } else { delete $h{$k} }
    }
    return \%h;
}

# claims with undef values dropped, and the times numbers
sub _claims {
    my ($claims) = @_;
    my %c;
    for my $k (keys %{ $claims || {} }) {
        my $v = $claims->{$k};
        next unless defined $v;
        $v = 0 + $v if $k =~ /^(?:exp|nbf|iat)$/ && !ref $v && $v =~ /^-?\d+(?:\.\d+)?$/;
        $c{$k} = $v;
    }
    return \%c;
}

sub jwt_sign {
    my ($keys, $alg, $header_extra, $claims, %o) = @_;
    my $header = _header($alg, $header_extra);
    my $payload = exists $o{payload} ? $o{payload} : $JSON->encode(_claims($claims));
    return jwt_sign_raw($keys, $header->{alg} eq 'none' ? 'none' : $alg,
                        $JSON->encode($header), $payload, %o);
}

# ---------------------------------------------------------------------------
# attack tokens

my %FORGE = (
    # alg none, no signature: "h.p." and "h.p"
    none => sub {
        my ($k, $c) = @_;
        return jwt_sign($k, 'none', { kid => undef }, $c);
    },
    none_two_parts => sub {
        my ($k, $c) = @_;
        (my $t = jwt_sign($k, 'none', { kid => undef }, $c)) =~ s/\.\z//;
        return $t;
    },
    # HS256 keyed with the bytes of the RSA public key rsa1 names
    confusion_pem => sub {
        my ($k, $c) = @_;
        return jwt_sign($k, 'HS256', { kid => 'rsa1' }, $c, hmac_key => _read($k->{rsa_pub_pem}));
    },
    confusion_der => sub {
        my ($k, $c) = @_;
        return jwt_sign($k, 'HS256', { kid => 'rsa1' }, $c, hmac_key => _read($k->{rsa_pub_der}));
    },
    # a good RS256 token with one byte of its signature changed
    bad_signature => sub {
        my ($k, $c) = @_;
        my ($hp, $s) = jwt_sign($k, 'RS256', {}, $c) =~ /^(.*)\.([^.]*)\z/;
        my $sig = b64url_decode($s);
        substr($sig, length($sig) / 2, 1) ^= "\x01";
        return _register_secret("$hp." . b64url($sig));
    },
    # signed by a key that is not published, once claiming to be rsa1
    rogue => sub {
        my ($k, $c) = @_;
        return jwt_sign($k, 'RS256', { kid => 'rsa1' }, $c, key => 'rogue');
    },
    unknown_kid => sub {
        my ($k, $c) = @_;
        return jwt_sign($k, 'RS256', { kid => 'rogue' }, $c, key => 'rogue');
    },
    # ES256 with the DER signature openssl makes, not JWS's r||s
    es256_der => sub {
        my ($k, $c) = @_;
        return jwt_sign($k, 'ES256', {}, $c, ecdsa_der => 1);
    },
    # a critical header extension nobody understands
    crit => sub {
        my ($k, $c) = @_;
        return jwt_sign($k, 'RS256', { crit => ['exp'] }, $c);
    },
    two_parts => sub {
        my ($k, $c) = @_;
        (my $t = jwt_sign($k, 'RS256', {}, $c)) =~ s/\.[^.]*\z//;
        return _register_secret($t);
    },
    four_parts => sub {
        my ($k, $c) = @_;
        my $t = jwt_sign($k, 'RS256', {}, $c);
        my ($s) = $t =~ /\.([^.]*)\z/;
        return _register_secret("$t.$s");
    },
    # a "*" in the middle of the payload part
    bad_chars => sub {
        my ($k, $c) = @_;
        my ($h, $p, $s) = split /\./, jwt_sign($k, 'RS256', {}, $c);
        substr($p, length($p) / 2, 0) = '*';
        return _register_secret("$h.$p.$s");
    },
    # about $o{size} (7000) bytes in all, with a "pad" claim
    huge => sub {
        my ($k, $c, %o) = @_;
        my $size = $o{size} // 7000;
        my $small = length jwt_sign($k, 'RS256', {}, { %{ $c || {} }, pad => '' });
        my $pad = int(($size - $small) * 3 / 4);
        $pad = 0 if $pad < 0;
        return jwt_sign($k, 'RS256', {}, { %{ $c || {} }, pad => 'x' x $pad });
    },
    # well signed, but the payload is not a JSON object
    not_json => sub {
        my ($k, $c) = @_;
        return jwt_sign($k, 'RS256', {}, $c, payload => 'this is not JSON {');
    },
    array => sub {
        my ($k, $c) = @_;
        return jwt_sign($k, 'RS256', {}, $c, payload => $JSON->encode([_claims($c)]));
    },
    # {"sub":"mallory", <the claims with sub>}: which sub wins is ambiguous
    duplicate_sub => sub {
        my ($k, $c) = @_;
        my $obj = $JSON->encode(_claims({ sub => 'alice', %{ $c || {} } }));
        $obj =~ s/^\{/{"sub":"mallory",/ or Carp::croak('duplicate_sub: no object');
        return jwt_sign($k, 'RS256', {}, $c, payload => $obj);
    },
);

sub forge_kinds { sort keys %FORGE }

sub jwt_forge {
    my ($keys, $kind, $claims, %o) = @_;
    my $make = $FORGE{$kind} or Carp::croak("jwt_forge: unknown kind \"$kind\" (known: "
                                            . join(' ', forge_kinds()) . ')');
    return $make->($keys, $claims, %o);
}

1;

__END__

=head1 NAME

Test::McpJwt - keys and JSON Web Tokens for the JWT tests, made with openssl

=head1 SYNOPSIS

    use Test::McpJwt;
    my $k = jwt_keys($dir);                       # jwks.json, hs.key, ...
    my $t = jwt_sign($k, 'ES256', {}, { sub => 'alice', exp => time + 300 });
    my $none = jwt_forge($k, 'none', \%claims);

=head1 FUNCTIONS

B<jwt_keys($dir)> makes, with the openssl CLI, in C<$dir>: an RSA 2048 key
(kid C<rsa1>), an EC P-256 key (C<ec1>), an Ed25519 key (C<ed1>), a second
RSA 2048 key that is not published (C<rogue>), an RSA 1024 key (C<weak1>),
each as C<NAME.pem>, C<NAME.pub.pem> and C<NAME.pub.der>; C<jwks.json> with
the public rsa1, ec1 and ed1 keys; C<weak.json> with the 1024-bit key only;
C<hs.key>, 48 random bytes (neither end white space or NUL); and
C<hs-short.key>, 16 bytes. Returns a hash: C<dir>, C<jwks>, C<weak_jwks>,
C<hs_key>, C<hs_secret> (the bytes), C<hs_short>, C<rsa_pub_pem>,
C<rsa_pub_der>, C<jwks_keys> (kid => JWK), C<kids> (alg => default kid), and
per key (C<rsa>, C<rogue>, C<weak>, C<ec>, C<ed>) C<{pem, pub_pem, pub_der,
kid, alg}> (RSA keys also C<bits>).

B<jwt_sign($keys, $alg, \%header_extra, \%claims, %o)>: a compact JWT with
header C<{"alg":$alg,"typ":"JWT","kid":...}> (kid C<rsa1>, C<ec1> or C<ed1>
for RS256, ES256 and EdDSA, none for HS256); C<%header_extra> adds or
replaces members, an undef value removes one. Claims with undef values are
left out; C<exp>, C<nbf> and C<iat> are encoded as numbers. RS256 and ES256
are signed with C<openssl dgst -sha256 -sign> (ES256 turned into the 64-byte
r||s of JWS), EdDSA with C<openssl pkeyutl -sign -rawin>, HS256 with
HMAC-SHA-256 of the C<hs.key> bytes. Options: C<key =E<gt> 'rogue'> (or any
key name of jwt_keys) signs with another key, C<ecdsa_der =E<gt> 1> keeps
the DER signature, C<hmac_key =E<gt> BYTES> replaces the HS256 secret,
C<payload =E<gt> TEXT> sends that text as payload instead of the claims.

B<jwt_sign_raw($keys, $alg, $header_text, $payload_text, %o)>: the same for
header and payload given as text.

B<jwt_forge($keys, $kind, \%claims, %o)>: attack tokens, each otherwise
valid for the claims given: C<none> ("h.p."), C<none_two_parts> ("h.p"),
C<confusion_pem>, C<confusion_der> (HS256, kid rsa1, keyed with the rsa1
public key's PEM or DER bytes), C<bad_signature>, C<rogue> (RS256 by the
rogue key with kid rsa1), C<unknown_kid> (kid C<rogue>), C<es256_der>,
C<crit> (C<"crit":["exp"]>), C<two_parts>, C<four_parts>, C<bad_chars> (a
C<*> in the payload part), C<huge> (C<size =E<gt> N> bytes in all, 7000 by
default, padded with a C<pad> claim), C<not_json>, C<array> (the claims in
a JSON array), C<duplicate_sub> (C<"sub":"mallory"> before the real one).
B<forge_kinds()> lists them.

Every token made is passed to C<Test::McpNginx::register_secret> when the
harness has it.

On request: B<b64url>, B<b64url_decode>, B<ecdsa_der_to_raw($der, $size)>,
B<ecdsa_raw_to_der($raw)>.

=cut
