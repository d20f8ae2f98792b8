// SPDX-License-Identifier: MIT
// Tests of the rsyncd.conf lexer: headers, parameters, comments, continuation, directives.
#include "daemon/config_parser.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ocr::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Records every callback as a short string: "S 3 name", "P 4 name=value",
// "D 5 &include=/x", "E 6 message" (problem) or "F 6 message" (fatal problem).
class Recorder final : public ConfigSyntaxHandler {
public:
    bool on_section(const std::string& name, int line) override
    {
        events.push_back("S " + std::to_string(line) + " " + name);
        return true;
    }
    bool on_parameter(const std::string& name, const std::string& value, int line) override
    {
        events.push_back("P " + std::to_string(line) + " " + name + "=" + value);
        return true;
    }
    bool on_directive(const std::string& name, const std::string& value, int line) override
    {
        events.push_back("D " + std::to_string(line) + " " + name + "=" + value);
        return true;
    }
    void on_problem(int line, const std::string& message, bool fatal) override
    {
        events.push_back(std::string(fatal ? "F " : "E ") + std::to_string(line) + " " + message);
    }
    std::vector<std::string> events;
};

std::vector<std::string> parse(std::string_view text, bool* ok = nullptr)
{
    Recorder r;
    bool result = parse_config_text(text, r);
    if (ok)
        *ok = result;
    return r.events;
}

// Verifies that a simple file yields headers and parameters with their line numbers.
TEST(ConfigParser, SectionsAndParameters)
{
    bool ok = false;
    auto ev = parse("motd file = /etc/motd\n\n[ftp]\n  path = /srv/ftp\ncomment = FTP area\n", &ok);
    EXPECT_TRUE(ok);
    EXPECT_THAT(ev, ElementsAre("P 1 motd file=/etc/motd", "S 3 ftp", "P 4 path=/srv/ftp",
                                "P 5 comment=FTP area"));
}

// Verifies that names have white space runs collapsed and trimmed, values are trimmed,
// and internal white space of values is kept verbatim.
TEST(ConfigParser, WhiteSpaceHandling)
{
    auto ev =
        parse("  max \t  connections   =   4  \n[  my    module  ]\ncomment =  a   b\t c  \n");
    EXPECT_THAT(ev, ElementsAre("P 1 max connections=4", "S 2 my module", "P 3 comment=a   b\t c"));
}

// Verifies that only the first '=' splits name and value.
TEST(ConfigParser, FirstEqualsSplits)
{
    auto ev = parse("refuse options = a=b = c\n");
    EXPECT_THAT(ev, ElementsAre("P 1 refuse options=a=b = c"));
}

// Verifies that lines starting with '#' or ';' (after blanks) are comments, but a '#'
// later in a line is content.
TEST(ConfigParser, Comments)
{
    auto ev = parse("# comment\n; also comment\n   # indented\ncomment = a # not a comment\n");
    EXPECT_THAT(ev, ElementsAre("P 4 comment=a # not a comment"));
}

// Verifies that a trailing backslash continues a value, keeping the white space before it
// and the leading white space of the next line.
TEST(ConfigParser, ValueContinuation)
{
    auto ev = parse("exclude = a \\\n  b\\\nc\npath = /x\n");
    EXPECT_THAT(ev, ElementsAre("P 1 exclude=a   bc", "P 4 path=/x"));
}

// Verifies that white space after the continuation backslash is ignored.
TEST(ConfigParser, ContinuationWithTrailingBlanks)
{
    auto ev = parse("exclude = a\\   \nb\n");
    EXPECT_THAT(ev, ElementsAre("P 1 exclude=ab"));
}

// Verifies that a parameter name and a module header can be continued too.
TEST(ConfigParser, NameAndHeaderContinuation)
{
    auto ev = parse("max \\\n  connections = 3\n[my \\\n  mod]\n");
    EXPECT_THAT(ev, ElementsAre("P 1 max connections=3", "S 3 my mod"));
}

// Verifies that CRs are dropped from values and CRLF files parse like LF files.
TEST(ConfigParser, CarriageReturns)
{
    auto ev = parse("[mod]\r\npath = /srv/x\r\ncomment = a\rb\r\n");
    EXPECT_THAT(ev, ElementsAre("S 1 mod", "P 2 path=/srv/x", "P 3 comment=ab"));
}

// Verifies that text after the closing ']' of a header is ignored.
TEST(ConfigParser, HeaderTrailingText)
{
    auto ev = parse("[mod] # the module\npath = /x\n");
    EXPECT_THAT(ev, ElementsAre("S 1 mod", "P 2 path=/x"));
}

// Verifies that an empty value is passed on as empty.
TEST(ConfigParser, EmptyValue)
{
    auto ev = parse("hosts allow =\nhosts deny =   \n");
    EXPECT_THAT(ev, ElementsAre("P 1 hosts allow=", "P 2 hosts deny="));
}

// Verifies that a leading stray backslash is skipped and the line parsed normally.
TEST(ConfigParser, StrayLeadingBackslash)
{
    auto ev = parse("\\ path = /x\n\\\n");
    EXPECT_THAT(ev, ElementsAre("P 1 path=/x"));
}

// Verifies that directives split at the first blank, with an optional '='.
TEST(ConfigParser, Directives)
{
    auto ev = parse("&include /etc/rsyncd.d\n&merge = /etc/m.inc\n&Include=/x y\n");
    EXPECT_THAT(ev, ElementsAre("D 1 &include=/etc/rsyncd.d", "D 2 &merge=/etc/m.inc",
                                "D 3 &Include=/x y"));
}

// Verifies that a line without '=' is reported (not fatal) and skipped.
TEST(ConfigParser, LineWithoutEquals)
{
    bool ok = false;
    auto ev = parse("read only\npath = /x\n", &ok);
    EXPECT_TRUE(ok);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_THAT(ev[0], HasSubstr("E 1 line has no '='"));
    EXPECT_EQ(ev[1], "P 2 path=/x");
}

// Verifies that "= value" without a name is fatal.
TEST(ConfigParser, EmptyNameIsFatal)
{
    bool ok = true;
    auto ev = parse("path = /x\n= value\npath = /y\n", &ok);
    EXPECT_FALSE(ok);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_THAT(ev[1], HasSubstr("F 2 missing parameter name"));
}

// Verifies that an empty header, a header without ']' and EOF inside a header are fatal.
TEST(ConfigParser, BadHeadersAreFatal)
{
    bool ok = true;
    auto ev = parse("[ ]\n", &ok);
    EXPECT_FALSE(ok);
    EXPECT_THAT(ev, ElementsAre(HasSubstr("F 1 empty module name")));

    ev = parse("path = /x\n[mod\npath = /y\n", &ok);
    EXPECT_FALSE(ok);
    EXPECT_THAT(ev,
                ElementsAre("P 1 path=/x", HasSubstr("F 2 module header \"[mod\" has no closing")));

    ev = parse("[mod", &ok);
    EXPECT_FALSE(ok);
    EXPECT_THAT(ev, ElementsAre(HasSubstr("F 1 end of file inside module header")));
}

// Verifies that a continuation at the very end of the file is reported and the value kept.
TEST(ConfigParser, ContinuationAtEof)
{
    auto ev = parse("[m]\ncomment = abc \\\n");
    EXPECT_THAT(ev, ElementsAre("S 1 m", HasSubstr("E 2 line continuation"), "P 2 comment=abc "));

    ev = parse("comment = abc\\");
    EXPECT_THAT(ev, ElementsAre(HasSubstr("E 1 line continuation"), "P 1 comment=abc\\"));
}

// Verifies that end of file inside a name is reported and the line dropped.
TEST(ConfigParser, EofInName)
{
    auto ev = parse("path = /x\nread only");
    EXPECT_THAT(ev, ElementsAre("P 1 path=/x", HasSubstr("E 2 end of file inside parameter name")));
}

// Verifies that a NUL byte anywhere is fatal and reported on its line.
TEST(ConfigParser, NulByteIsFatal)
{
    bool ok = true;
    auto ev = parse(std::string_view("path = /x\ncomment = a\0b\n", 24), &ok);
    EXPECT_FALSE(ok);
    EXPECT_THAT(ev, ElementsAre(HasSubstr("F 2 NUL byte")));
}

// Verifies that a last line without a newline is still parsed.
TEST(ConfigParser, NoFinalNewline)
{
    auto ev = parse("[m]\npath = /x");
    EXPECT_THAT(ev, ElementsAre("S 1 m", "P 2 path=/x"));
}

// Verifies that a handler returning false stops the parse.
TEST(ConfigParser, HandlerStops)
{
    class Stopper final : public ConfigSyntaxHandler {
    public:
        bool on_section(const std::string&, int) override { return false; }
        bool on_parameter(const std::string&, const std::string&, int) override
        {
            ++params;
            return true;
        }
        bool on_directive(const std::string&, const std::string&, int) override { return true; }
        void on_problem(int, const std::string&, bool) override {}
        int params = 0;
    } s;
    EXPECT_FALSE(parse_config_text("a = 1\n[m]\nb = 2\n", s));
    EXPECT_EQ(s.params, 1);
}

} // namespace
} // namespace ocr::daemon
