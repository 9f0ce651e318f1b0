# perl: hashes of 150,000 keys built and dropped, a string grown 4 KiB at a
# time, arrays of strings sorted: a report generator's allocation pattern.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $ctx = Digest::MD5->new;
for my $round (1 .. 3) {
    my %h;
    $h{"k$round-$_"} = $_ x 3 for 1 .. 150000;
    my @top = (sort { $a cmp $b } keys %h)[0 .. 999];
    my $s = "";
    $s .= chr(65 + $_ % 26) x 4096 for 1 .. 20000;
    $ctx->add(join(",", @top[0 .. 9]), substr($s, -64), scalar(keys %h));
}
print $ctx->hexdigest, "\n";
