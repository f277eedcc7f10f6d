# Reads bounce emails with Sisimai (Debian's libsisimai-perl) for bench/bounce_accuracy.py: one
# JSON object on standard output, {file: [{recipient, reason, status, action, softbounce}]}.
# Each file is read as one message (mailbox "From " lines taken off and one put back).
use strict;
use warnings;
use JSON::PP;
use Sisimai;

my %found;
for my $name (@ARGV) {
    open my $handle, '<:raw', $name or die "$name: $!";
    my $text = do { local $/; <$handle> };
    close $handle;
    $text =~ s/\A(?:From [^\n]*\n)+//;
    $text = "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" . $text;
    my $read = eval { Sisimai->make(\$text, delivered => 1) } || [];
    $found{$name} = [ map { { recipient => lc $_->recipient->address, reason => $_->reason, status => $_->deliverystatus,
                               action => $_->action, softbounce => $_->softbounce } } @$read ];
}
print JSON::PP->new->canonical->encode(\%found);
