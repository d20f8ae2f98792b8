// SPDX-License-Identifier: MIT
// Tests of the transfer-log "%" escape renderer against lines rsync 3.5.0 wrote.
#include "transfer/log_format.hpp"

#include "transfer/itemize.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <time.h>

namespace ocr::transfer {
namespace {

// 2024-03-05 06:07:08 UTC and 2026-11-24 03:43:57 UTC.
constexpr std::time_t kOldMtime = 1709618828;
constexpr std::time_t kNow = 1795491837;

class LogFormatTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        // Upstream prints local time; pin the zone so the expected text is stable.
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }

    // The session of upstream's daemon in the recorded log: module "mod" at
    // /srv/mod, client localhost (127.0.0.1), no auth users, MD5 sums.
    static LogSession daemon_session(bool am_sender)
    {
        LogSession s;
        s.remote_addr = "127.0.0.1";
        s.remote_host = "localhost";
        s.module_name = "mod";
        s.module_path = "/srv/mod";
        s.auth_user = "";
        s.pid = 9522;
        s.now = kNow;
        s.am_sender = am_sender;
        s.preserve_mtimes = true;
        s.receiver_symlink_times = true;
        s.checksum_length = 16;
        return s;
    }

    static std::string render(std::string_view format, const LogSession& s, const LogItem& item)
    {
        const LogLine line = render_log_format(format, s, item);
        EXPECT_TRUE(line.ok()) << line.error;
        return line.text;
    }
};

// The "log format" the recorded daemon used: every escape, %%, an unknown one and a width.
constexpr const char* kAllEscapes =
    "A=%a|b=%b|B=%B|c=%c|C=%C|f=%f|G=%G|h=%h|i=%i|l=%l|L=%L|m=%m|M=%M|n=%n|o=%o|p=%p|P=%P|"
    "t=%t|u=%u|U=%U|pct=%%|x=%x|w=%-6n|";

// Verifies a daemon's "send" line for a transferred file, as upstream logged it for a pull.
TEST_F(LogFormatTest, DaemonPullOfAFile)
{
    LogItem item;
    item.op = "send";
    item.name = "a.txt";
    item.sender_dir = "";
    item.daemon_dir = "";
    item.mode = S_IFREG | 0644;
    item.length = 6;
    item.mtime = kOldMtime;
    item.uid = 1234;
    item.gid = 5678;
    item.iflags = kItemTransfer | kItemIsNew;
    item.bytes_written = 49;
    item.bytes_read = 16;
    item.xfer_sum_hex = "6bba86c7e069f56d5a10b435f1c8e49c";
    EXPECT_EQ(render(kAllEscapes, daemon_session(true), item),
              "A=127.0.0.1|b=49|B=rw-r--r--|c=16|C=6bba86c7e069f56d5a10b435f1c8e49c|f=a.txt|G=5678|"
              "h=localhost|i=<f+++++++++|l=6|L=|m=mod|M=2024/03/05-06:07:08|n=a.txt|o=send|p=9522|"
              "P=/srv/mod|t=2026/11/24 03:43:57|u=|U=1234|pct=%|x=%x|w=a.txt |");
}

// Verifies a daemon's "send" line for a symlink and for the transfer's root directory.
TEST_F(LogFormatTest, DaemonPullOfSymlinkAndRoot)
{
    LogItem link;
    link.op = "send";
    link.name = "link";
    link.sender_dir = "";
    link.mode = S_IFLNK | 0777;
    link.length = 5;
    link.mtime = kNow - 1;
    link.uid = 0;
    link.gid = 0;
    link.symlink_target = "a.txt";
    link.iflags = kItemLocalChange | kItemIsNew;
    EXPECT_EQ(render(kAllEscapes, daemon_session(true), link),
              "A=127.0.0.1|b=0|B=rwxrwxrwx|c=0|C=                                |f=link|G=0|h=localhost|"
              "i=cL+++++++++|l=5|L= -> a.txt|m=mod|M=2026/11/24-03:43:56|n=link|o=send|p=9522|"
              "P=/srv/mod|t=2026/11/24 03:43:57|u=|U=0|pct=%|x=%x|w=link  |");

    LogItem root = link;
    root.name = ".";
    root.mode = S_IFDIR | 0755;
    root.length = 4096;
    root.symlink_target.clear();
    EXPECT_EQ(render("f=%f|n=%n|i=%i|B=%B|w=%-6n|", daemon_session(true), root),
              "f=.|n=./|i=cd+++++++++|B=rwxr-xr-x|w=./    |");
}

// Verifies a daemon's "recv" lines of a push into "mod/sub/": %f joins the daemon's
// current directory (upstream prints "sub/." for the root), %b counts bytes read.
TEST_F(LogFormatTest, DaemonPushIntoSubdirectory)
{
    LogSession s = daemon_session(false);
    s.pid = 9534;
    LogItem root;
    root.op = "recv";
    root.name = ".";
    root.daemon_dir = "/sub";
    root.mode = S_IFDIR | 0755;
    root.length = 4096;
    root.mtime = kNow;
    root.uid = 0;
    root.gid = 0;
    root.iflags = kItemReportTime;
    EXPECT_EQ(render(kAllEscapes, s, root),
              "A=127.0.0.1|b=0|B=rwxr-xr-x|c=0|C=                                |f=sub/.|G=0|h=localhost|"
              "i=.d..t......|l=4096|L=|m=mod|M=2026/11/24-03:43:57|n=./|o=recv|p=9534|P=/srv/mod|"
              "t=2026/11/24 03:43:57|u=|U=0|pct=%|x=%x|w=./    |");

    LogItem file = root;
    file.name = "new";
    file.mode = S_IFREG | 0644;
    file.length = 3;
    file.mtime = 1704067200; // 2024-01-01
    file.iflags = kItemTransfer | kItemIsNew;
    file.bytes_read = 43;
    file.xfer_sum_hex = "f6898951fee4f7c07e8333163b209f60";
    EXPECT_EQ(render("b=%b|c=%c|C=%C|f=%f|i=%i|M=%M|n=%n", s, file),
              "b=43|c=0|C=f6898951fee4f7c07e8333163b209f60|f=sub/new|i=>f+++++++++|M=2024/01/01-00:00:00|n=new");
}

// Verifies the line rsync 3.5.0's daemon wrote for a protocol-28 pull with "reverse lookup =
// no": the implied iflags print '?', the salted MD4 sum is not shown.
TEST_F(LogFormatTest, DaemonPullWithProtocol28)
{
    LogSession s = daemon_session(true);
    s.remote_host = "UNDETERMINED";
    LogItem item;
    item.op = "send";
    item.name = "f";
    item.sender_dir = "";
    item.mode = S_IFREG | 0644;
    item.iflags = implied_item_flags(28);
    item.bytes_written = 47;
    item.bytes_read = 16;
    EXPECT_EQ(render("%i|%h|%o|%n|%b|%c|%C", s, item), "<f?????????|UNDETERMINED|send|f|47|16|" + std::string(32, ' '));
}

// Verifies a daemon's deletion line: the zero-filled placeholder entry of upstream log_delete.
TEST_F(LogFormatTest, DaemonDeletion)
{
    LogSession s = daemon_session(false);
    s.pid = 9538;
    LogItem dir = make_delete_item("ud", S_IFDIR | 0755, true);
    dir.daemon_dir = "/sub";
    EXPECT_EQ(render(kAllEscapes, s, dir),
              "A=127.0.0.1|b=0|B=rwxr-xr-x|c=0|C=                                |f=sub/ud|G=0|h=localhost|"
              "i=*deleting  |l=0|L=|m=mod|M=1970/01/01-00:00:00|n=ud/|o=del.|p=9538|P=/srv/mod|"
              "t=2026/11/24 03:43:57|u=|U=0|pct=%|x=%x|w=ud/   |");
    // Without -g the placeholder has no group.
    EXPECT_EQ(render("%G", s, make_delete_item("f", S_IFREG | 0644, false)), "DEFAULT");
    // A deleted symlink does not show its (unknown) target.
    LogItem link = make_delete_item("l", S_IFLNK | 0777, false);
    link.symlink_target = "x";
    EXPECT_EQ(render("[%L]", s, link), "[]");
}

// Verifies the local-copy (non-daemon) values: %a %h %P %u stay literal, %m is empty,
// %f joins the sender's directory, %i shows '>'.
TEST_F(LogFormatTest, LocalCopyLeavesDaemonEscapes)
{
    LogSession s;
    s.am_sender = true;
    s.local_server = true;
    s.preserve_mtimes = true;
    s.pid = 302;
    LogItem item;
    item.op = "send";
    item.name = "big";
    item.sender_dir = "src";
    item.mode = S_IFREG | 0644;
    item.length = 5000;
    item.mtime = kOldMtime;
    item.uid = 1234;
    item.gid = 5678;
    item.iflags = kItemTransfer | kItemIsNew;
    item.bytes_written = 5043;
    item.bytes_read = 16;
    EXPECT_EQ(render("%i|%n|%L|%l|%b|%c|%f|%o|%m|%P|%u|%h|%a|%5p|%-8n|%08l|%'l|%''l", s, item),
              ">f+++++++++|big||5000|5043|16|src/big|send||%P|%u|%h|%a|  302|big     |    5000|5,000|5.00K");
    item.name = ".";
    item.mode = S_IFDIR | 0755;
    EXPECT_EQ(render("%f", s, item), "src/.");
}

// Verifies the width quirks rsync 3.5.0 showed: %L pads only the name (and prints four
// blanks plus the padding without a link), zero-padding works for %p/%U only, %C blanks
// ignore the width, unknown escapes keep their width text.
TEST_F(LogFormatTest, WidthQuirks)
{
    LogSession s;
    s.pid = 383;
    s.checksum_length = 16;
    LogItem item;
    item.op = "send";
    item.name = "sub";
    item.mode = S_IFDIR | 0755;
    item.length = 4096;
    item.iflags = kItemLocalChange | kItemIsNew;
    EXPECT_EQ(render("[%5L][%-5L][%07p][%07U][%07G][%5%][%x][%5x][%'5l][%5'l][%''''l][%-12B]", s, item),
              "[         ][         ][0000383][0000000][DEFAULT][    %][%x][%5x][4,096][4,096][4.00K]"
              "[rwxr-xr-x   ]");
    EXPECT_EQ(render("[%3i][%14i][%-0008l][%008l][%I][%.3n][%40C]", s, item),
              "[cd+++++++++][   cd+++++++++][4096    ][    4096][%I][%.3n]"
              "[                                ]");
    item.mode = S_IFLNK | 0777;
    item.symlink_target = "a.txt";
    EXPECT_EQ(render("[%-8L][%8L]", s, item), "[ -> a.txt   ][ ->    a.txt]");
    item.hlink = "hard";
    EXPECT_EQ(render("[%L]", s, item), "[ => hard]");
}

// Verifies %C: with -c the file-list sum (blank if it is not canonical), otherwise the
// transfer sum only after a transfer, and never for non-regular files.
TEST_F(LogFormatTest, ChecksumEscape)
{
    LogSession s;
    s.checksum_length = 16;
    LogItem item;
    item.op = "send";
    item.mode = S_IFREG | 0644;
    item.xfer_sum_hex = "11";
    item.file_sum_hex = "22";
    EXPECT_EQ(render("%C", s, item), std::string(32, ' '));
    item.iflags = kItemTransfer;
    EXPECT_EQ(render("%C|%4C", s, item), "11|  11");
    s.always_checksum = true;
    EXPECT_EQ(render("%C", s, item), "22");
    item.file_sum_hex.reset();
    EXPECT_EQ(render("%C", s, item), std::string(32, ' '));
    item.mode = S_IFDIR | 0755;
    s.checksum_length = 8;
    EXPECT_EQ(render("%C", s, item), std::string(16, ' '));
}

// Verifies that a format over MAXPATHLEN and an expansion beyond upstream's line buffer are
// the fatal errors upstream exits with.
TEST_F(LogFormatTest, LimitsAreFatal)
{
    LogSession s;
    LogItem item;
    item.op = "recv";
    item.name = "n";
    EXPECT_TRUE(render_log_format(std::string(4096, 'x'), s, item).ok());
    LogLine too_long = render_log_format(std::string(4097, 'x'), s, item);
    EXPECT_FALSE(too_long.ok());
    EXPECT_EQ(too_long.error, "log-format string is WAY too long!");

    // The line plus its newline must stay below MAXPATHLEN + 1024 = 5120 bytes.
    LogLine fits = render_log_format("%4095n%1023n", s, item);
    EXPECT_TRUE(fits.ok());
    EXPECT_EQ(fits.text.size(), 5118u);
    LogLine overflow = render_log_format("%4095n%1024n", s, item);
    EXPECT_FALSE(overflow.ok());
    EXPECT_EQ(overflow.error, "buffer overflow expanding %n -- exiting");
    EXPECT_TRUE(overflow.text.empty());
}

// Verifies that one field keeps at most MAXPATHLEN-1 bytes and that a width beyond INT_MAX
// prints nothing (printf fails), while 24 width characters end the escape unexpanded.
TEST_F(LogFormatTest, HugeWidths)
{
    LogSession s;
    LogItem item;
    item.op = "recv";
    item.name = "abc";
    EXPECT_EQ(render("%99999n", s, item), std::string(4095, ' '));
    EXPECT_EQ(render("%-99999n", s, item), "abc" + std::string(4092, ' '));
    EXPECT_EQ(render("[%2147483648n]", s, item), "[]");
    EXPECT_EQ(render("[%2147483647n]", s, item).size(), 4097u);
    const std::string max_digits(23, '0');
    EXPECT_EQ(render("[%" + max_digits + "n]", s, item), "[abc]");
    EXPECT_EQ(render("[%" + max_digits + "0n]", s, item), "[%" + max_digits + "0n]");
    EXPECT_EQ(render("[%-" + std::string(22, '0') + "n]", s, item), "[abc]");
}

// Verifies the edge cases of the escape scanner: a trailing '%', apostrophes alone, and
// text after a NUL (upstream's C string ends there).
TEST_F(LogFormatTest, ScannerEdges)
{
    LogSession s;
    LogItem item;
    item.op = "recv";
    item.name = "n";
    EXPECT_EQ(render("a%", s, item), "a%");
    EXPECT_EQ(render("a%-5", s, item), "a%-5");
    EXPECT_EQ(render("%''", s, item), "%''");
    EXPECT_EQ(render("%%%n%%", s, item), "%n%");
    EXPECT_EQ(render(std::string_view("x%n\0%n", 6), s, item), "xn");
}

// Verifies log_format_has() finds escapes behind widths and apostrophes, skips "%%", and
// agrees with the renderer on the 23-character width limit.
TEST_F(LogFormatTest, LogFormatHas)
{
    EXPECT_TRUE(log_format_has("%o %h [%a] %m (%u) %f %l", 'o'));
    EXPECT_FALSE(log_format_has("%o %h [%a] %m (%u) %f %l", 'i'));
    EXPECT_TRUE(log_format_has("%'-10'i", 'i'));
    EXPECT_FALSE(log_format_has("%%i", 'i'));
    EXPECT_TRUE(log_format_has("%%%i", 'i'));
    EXPECT_TRUE(log_format_has("%" + std::string(23, '1') + "C", 'C'));
    EXPECT_FALSE(log_format_has("%" + std::string(24, '1') + "C", 'C'));
    EXPECT_FALSE(log_format_has("abc%", 'i'));
}

// Verifies the daemon's choice of transfer-log format and of the deletion format.
TEST_F(LogFormatTest, TransferLogFormatResolution)
{
    const std::string dflt = "%o %h [%a] %m (%u) %f %l";
    TransferLogFormat off = resolve_transfer_log_format(std::nullopt, false, dflt);
    EXPECT_FALSE(off.logs_items());
    EXPECT_FALSE(off.delete_format(false).has_value());

    TransferLogFormat on = resolve_transfer_log_format(std::nullopt, true, dflt);
    EXPECT_TRUE(on.logs_items());
    EXPECT_FALSE(on.has_i);
    EXPECT_TRUE(on.has_o_or_i);
    EXPECT_EQ(on.delete_format(false), dflt);
    EXPECT_FALSE(on.delete_format(true).has_value());

    TransferLogFormat plain = resolve_transfer_log_format(std::nullopt, true, "%f %l");
    EXPECT_EQ(plain.delete_format(false), "deleting %n");

    TransferLogFormat cli = resolve_transfer_log_format(std::string("%i %n"), false, dflt);
    EXPECT_TRUE(cli.logs_items());
    EXPECT_TRUE(cli.has_i);

    TransferLogFormat empty = resolve_transfer_log_format(std::string(), true, dflt);
    EXPECT_FALSE(empty.logs_items());
    EXPECT_EQ(empty.delete_format(false), "deleting %n");
}

// Verifies the end-of-session totals line and upstream's number formatting.
TEST_F(LogFormatTest, TotalsAndNumbers)
{
    EXPECT_EQ(session_totals_line(270, 81, 14), "sent 270 bytes  received 81 bytes  total size 14");
    EXPECT_EQ(session_totals_line(1234567, 0, 9876543210), "sent 1234567 bytes  received 0 bytes  total size 9876543210");
    EXPECT_EQ(format_big_num(0, 0), "0");
    EXPECT_EQ(format_big_num(1234567, 1), "1,234,567");
    EXPECT_EQ(format_big_num(-1234567, 1), "-1,234,567");
    EXPECT_EQ(format_big_num(999, 2), "999");
    EXPECT_EQ(format_big_num(1000, 2), "1.00K");
    EXPECT_EQ(format_big_num(1000, 3), "1,000");
    EXPECT_EQ(format_big_num(1536, 3), "1.50K");
    EXPECT_EQ(format_big_num(5000000, 2), "5.00M");
    EXPECT_EQ(format_big_num(-2500, 2), "-2.50K");
    EXPECT_EQ(format_big_num(INT64_MIN, 0), "-9223372036854775808");
    EXPECT_EQ(format_big_num(INT64_MAX, 2), "9223.37P");
}

// Verifies the log-file filter against what rsync 3.5.0's daemon wrote for the name
// "a\001b\tc\205d\\#123e\177f\303\251": controls and C1 bytes escaped, tab, DEL and UTF-8
// kept, and a literal "\#123" protected.
TEST_F(LogFormatTest, LogFileEscaping)
{
    EXPECT_EQ(escape_log_file_text("recv a\001b\tc\205d\\#123e\177f\303\251"),
              "recv a\\#001b\tc\\#205d\\#134#123e\177f\303\251");
    EXPECT_EQ(escape_log_file_text("\\#12"), "\\#12");
    EXPECT_EQ(escape_log_file_text("x\n"), "x\\#012");
    EXPECT_EQ(escape_log_file_text(std::string_view("\0", 1)), "\\#000");
}

// Verifies the helpers behind %B, %M/%t and %C.
TEST_F(LogFormatTest, Helpers)
{
    EXPECT_EQ(permission_string(S_IFDIR | 02755), "drwxr-sr-x");
    EXPECT_EQ(permission_string(S_IFREG | 04644), "-rwSr--r--");
    EXPECT_EQ(permission_string(S_IFDIR | 01777), "drwxrwxrwt");
    EXPECT_EQ(permission_string(S_IFLNK | 0777), "lrwxrwxrwx");
    EXPECT_EQ(permission_string(S_IFIFO | 01644), "prw-r--r-T");
    EXPECT_EQ(format_timestring(kOldMtime), "2024/03/05 06:07:08");
    EXPECT_EQ(format_timestring(0), "1970/01/01 00:00:00");
    EXPECT_EQ(format_timestring(INT64_MAX), "(time out of range)");
    const std::uint8_t sum[] = {0x01, 0xab, 0xcd, 0xef};
    EXPECT_EQ(checksum_hex(sum, false), "01abcdef");
    EXPECT_EQ(checksum_hex(sum, true), "efcdab01");
}

} // namespace
} // namespace ocr::transfer
