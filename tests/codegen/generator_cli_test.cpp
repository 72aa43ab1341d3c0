// shmrec-gen as a build runs it: a real subprocess, its exit code, stderr and output dir.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>

#include "test_support.hpp"

namespace codegen_test {
namespace {

namespace fs = std::filesystem;

std::string bad(const std::string& name) {
    return (schemas_dir / "bad" / name).string();
}

std::string layout(const std::string& name) {
    return (schemas_dir / "layout" / name).string();
}

void expect_no_output(const fs::path& out) {
    EXPECT_TRUE(files_in(out).empty()) << "a failed run must not leave files in " << out;
}

TEST(GeneratorErrors, SyntaxErrorIsReportedAsFileLineErrorWithNoOutput) {
    const fs::path out = scratch_dir() / "out";
    const auto r = run_generator({"-o", out.string(), bad("syntax.fbs")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(std::regex_search(r.err, std::regex(R"((^|\n)[^\n]*syntax\.fbs:5: error: )")))
        << r.err;
    expect_no_output(out);
}

TEST(GeneratorErrors, TableWithoutFlatcIsAnErrorNamingTheTables) {
    const fs::path out = scratch_dir() / "out";
    const auto r = run_generator({"-o", out.string(), bad("table.fbs")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("table.fbs: error: the schema declares tables ('bad.Thing'), whose C++ "
                         "flatc generates: pass --flatc <path to flatc>"),
              std::string::npos)
        << r.err;
    expect_no_output(out);
}

TEST(GeneratorErrors, FlatcThatCannotRunIsAnError) {
    const fs::path out = scratch_dir() / "out";
    const auto r =
        run_generator({"--flatc", "/no/such/flatc", "-o", out.string(), bad("table.fbs")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("table.fbs: error: cannot run '/no/such/flatc'"), std::string::npos)
        << r.err;
    expect_no_output(out);
}

TEST(GeneratorErrors, FlatcThatFailsIsAnError) {
    const fs::path out = scratch_dir() / "out";
    const auto r = run_generator({"--flatc", "/bin/false", "-o", out.string(), bad("table.fbs")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("flatc ('/bin/false') failed on"), std::string::npos) << r.err;
    expect_no_output(out);
}

TEST(GeneratorErrors, UnionIsRejectedAsNotSupportedYet) {
    const fs::path out = scratch_dir() / "out";
    const auto r = run_generator({"--flatc", FLATC_EXE, "-o", out.string(), bad("union.fbs")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("union.fbs:7: error: union 'bad.Choice' is not supported yet"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("Holder"), std::string::npos) << "one error for one union\n" << r.err;
    expect_no_output(out);
}

TEST(GeneratorErrors, TextAttributeInAFileWithTablesIsRejected) {
    const fs::path out = scratch_dir() / "out";
    const auto r =
        run_generator({"--flatc", FLATC_EXE, "-o", out.string(), bad("text_in_table_file.fbs")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("text_in_table_file.fbs:6: error: field 'bad.Named.name' is marked "
                         "(shmrec_text), but text_in_table_file.fbs declares tables"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("move struct 'bad.Named' into a schema file without tables"),
              std::string::npos)
        << r.err;
    expect_no_output(out);
}

TEST(GeneratorErrors, TextAttributeOnAnythingButBytesIsRejected) {
    const fs::path out = scratch_dir() / "out";
    const auto r = run_generator({"-o", out.string(), bad("text_not_bytes.fbs")});
    EXPECT_NE(r.exit_code, 0);
    for (const char* field : {"'bad.Labels.wide' is [short:4]", "'bad.Labels.one' is ubyte",
                              "'bad.Labels.colors' is [bad.Color:4]"}) {
        EXPECT_NE(r.err.find(std::string("text_not_bytes.fbs:8: error: field ") + field +
                             ": (shmrec_text) marks only [ubyte:N] and [byte:N] fields"),
                  std::string::npos)
            << field << "\n"
            << r.err;
    }
    EXPECT_EQ(r.err.find("bad.Labels.ok"), std::string::npos) << r.err;
    expect_no_output(out);
}

TEST(GeneratorErrors, TextAttributeMustBeDeclared) {
    const fs::path out = scratch_dir() / "out";
    const auto r = run_generator({"-o", out.string(), bad("text_undeclared.fbs")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(std::regex_search(
        r.err, std::regex(R"(text_undeclared\.fbs:5: error: [^\n]*declared[^\n]*shmrec_text)")))
        << r.err;
    expect_no_output(out);
}

TEST(GeneratorErrors, MissingIncludeIsReportedWithItsLine) {
    const fs::path out = scratch_dir() / "out";
    const auto r = run_generator({"-o", out.string(), bad("missing_include.fbs")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(std::regex_search(
        r.err, std::regex(R"(missing_include\.fbs:1: error: .*no_such_file\.fbs)")))
        << r.err;
    expect_no_output(out);
}

TEST(GeneratorErrors, MissingSchemaFileIsAnError) {
    const fs::path out = scratch_dir() / "out";
    const auto r = run_generator({"-o", out.string(), bad("does_not_exist.fbs")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("does_not_exist.fbs: error: cannot read"), std::string::npos) << r.err;
    expect_no_output(out);
}

TEST(GeneratorErrors, OneBadSchemaMeansNoHeaderForTheGoodOnesEither) {
    const fs::path out = scratch_dir() / "out";
    const auto r = run_generator({"-o", out.string(), "--depfile", (out / "all.d").string(),
                                  CODEGEN_STUDENT_SCHEMA, bad("syntax.fbs")});
    EXPECT_NE(r.exit_code, 0);
    expect_no_output(out);
}

TEST(GeneratorErrors, NoSchemaIsAUsageError) {
    const fs::path out = scratch_dir() / "out";
    const auto r = run_generator({"-o", out.string()});
    EXPECT_NE(r.exit_code, 0);
    expect_no_output(out);
}

TEST(GeneratorOutput, OneHeaderPerSchemaOnTheCommandLine) {
    const fs::path out = scratch_dir() / "out";
    const auto r = run_generator({"-o", out.string(), layout("shapes.fbs"), layout("common.fbs")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(files_in(out), (std::vector<std::string>{"common.shmrec.hpp", "shapes.shmrec.hpp"}));
    const std::string shapes = read_file(out / "shapes.shmrec.hpp");
    EXPECT_NE(shapes.find("#include \"common.shmrec.hpp\""), std::string::npos);
    EXPECT_EQ(shapes.find("struct alignas(4) Vec3"), std::string::npos)
        << "types of an included schema belong to that schema's header";
}

TEST(GeneratorOutput, TableHeaderIncludesItsSchemasHeadersBeforeFlatcsCode) {
    const fs::path out = scratch_dir() / "out";
    const std::string enrolment =
        (fs::path(CODEGEN_STUDENT_SCHEMA).parent_path() / "enrolment.fbs").string();
    const auto r = run_generator({"--flatc", FLATC_EXE, "-o", out.string(), enrolment});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(files_in(out), std::vector<std::string>{"enrolment.shmrec.hpp"})
        << "flatc's own file is embedded, not left beside the header";
    const std::string h = read_file(out / "enrolment.shmrec.hpp");
    const auto student = h.find("#include \"student.shmrec.hpp\"");
    const auto flatc = h.find("#include \"flatbuffers/flatbuffers.h\"");
    const auto traits = h.find("struct TableTraits<::school::Enrolment>");
    ASSERT_NE(student, std::string::npos) << h;
    ASSERT_NE(flatc, std::string::npos) << h;
    ASSERT_NE(traits, std::string::npos) << h;
    EXPECT_LT(student, flatc);
    EXPECT_LT(flatc, traits);
    EXPECT_EQ(h.find("struct alignas(8) Student"), std::string::npos)
        << "student.fbs's Student belongs to student.shmrec.hpp";
}

TEST(GeneratorOutput, StructFileIncludingATableFileNeedsNoFlatc) {
    const fs::path out = scratch_dir() / "out";
    const auto r = run_generator(
        {"-o", out.string(), (schemas_dir / "tables" / "includes_table.fbs").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string h = read_file(out / "includes_table.shmrec.hpp");
    EXPECT_NE(h.find("#include \"mixed.shmrec.hpp\""), std::string::npos) << h;
    EXPECT_NE(h.find("::mix::Point p{};"), std::string::npos) << h;
}

TEST(GeneratorOutput, IncludeDirsAreSearched) {
    // shapes.fbs's directory is searched anyway; copy it elsewhere so only -I finds common.fbs.
    const fs::path dir = scratch_dir();
    fs::copy_file(layout("shapes.fbs"), dir / "shapes.fbs");
    const auto without =
        run_generator({"-o", (dir / "out1").string(), (dir / "shapes.fbs").string()});
    EXPECT_NE(without.exit_code, 0);
    const auto with = run_generator({"-I", (schemas_dir / "layout").string(), "-o",
                                     (dir / "out2").string(), (dir / "shapes.fbs").string()});
    EXPECT_EQ(with.exit_code, 0) << with.err;
    EXPECT_EQ(files_in(dir / "out2"), std::vector<std::string>{"shapes.shmrec.hpp"});
}

TEST(GeneratorOutput, DepfileListsTheOutputAndEveryIncludedSchema) {
    const fs::path out = scratch_dir() / "out";
    const fs::path dep = out / "shapes.d";
    const auto r =
        run_generator({"-o", out.string(), "--depfile", dep.string(), layout("shapes.fbs")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string text = read_file(dep);
    const std::string header = fs::absolute(out / "shapes.shmrec.hpp").lexically_normal().string();
    EXPECT_EQ(text.rfind(header + ":", 0), 0u) << text;
    EXPECT_NE(text.find(fs::path(layout("common.fbs")).lexically_normal().string()),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(fs::path(layout("shapes.fbs")).lexically_normal().string()),
              std::string::npos)
        << text;
}

TEST(GeneratorOutput, UnchangedHeaderIsNotRewritten) {
    const fs::path out = scratch_dir() / "out";
    ASSERT_EQ(run_generator({"-o", out.string(), CODEGEN_STUDENT_SCHEMA}).exit_code, 0);
    const fs::path header = out / "student.shmrec.hpp";
    const auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(24);
    fs::last_write_time(header, old_time);
    ASSERT_EQ(run_generator({"-o", out.string(), CODEGEN_STUDENT_SCHEMA}).exit_code, 0);
    EXPECT_EQ(fs::last_write_time(header), old_time);
    EXPECT_EQ(files_in(out), std::vector<std::string>{"student.shmrec.hpp"})
        << "no temporary file may be left behind";

    // A changed header is replaced.
    std::ofstream(header, std::ios::trunc) << "stale";
    ASSERT_EQ(run_generator({"-o", out.string(), CODEGEN_STUDENT_SCHEMA}).exit_code, 0);
    EXPECT_NE(read_file(header), "stale");
}

TEST(GeneratorOutput, TwoSchemasWithOneStemAreRejected) {
    const fs::path dir = scratch_dir();
    fs::create_directories(dir / "a");
    fs::create_directories(dir / "b");
    fs::copy_file(CODEGEN_STUDENT_SCHEMA, dir / "a" / "student.fbs");
    fs::copy_file(CODEGEN_STUDENT_SCHEMA, dir / "b" / "student.fbs");
    const auto r =
        run_generator({"-o", (dir / "out").string(), (dir / "a" / "student.fbs").string(),
                       (dir / "b" / "student.fbs").string()});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("student.shmrec.hpp"), std::string::npos) << r.err;
    expect_no_output(dir / "out");
}

}  // namespace
}  // namespace codegen_test
