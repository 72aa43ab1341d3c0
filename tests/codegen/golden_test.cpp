// Generated headers compared byte for byte with tests/codegen/golden/. A difference is
// either a bug or an intended change: then refresh the goldens and review their diff.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_support.hpp"

namespace codegen_test {
namespace {

namespace fs = std::filesystem;

constexpr const char* refresh_hint =
    "If the change is intended, refresh the goldens and review the diff:\n"
    "    cmake --build <build-dir> --target shmrec-refresh-goldens\n"
    "    git diff tests/codegen/golden/\n"
    "(docs/codegen.md, \"Golden files\")";

std::string enrolment_schema() {
    return (fs::path(CODEGEN_STUDENT_SCHEMA).parent_path() / "enrolment.fbs").string();
}

// The table headers embed flatc's output, so their goldens are flatc 2.0.8's too.
TEST(Golden, GeneratedHeadersMatchTheGoldenFiles) {
    const fs::path out = scratch_dir() / "out";
    const auto r =
        run_generator({"--flatc", FLATC_EXE, "-o", out.string(), CODEGEN_STUDENT_SCHEMA,
                       (schemas_dir / "layout" / "scalars.fbs").string(),
                       (schemas_dir / "layout" / "common.fbs").string(),
                       (schemas_dir / "layout" / "shapes.fbs").string(),
                       (schemas_dir / "layout" / "padding_names.fbs").string(),
                       (schemas_dir / "namespaces" / "hostile.fbs").string(), enrolment_schema(),
                       (schemas_dir / "tables" / "mixed.fbs").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const fs::path golden_dir{CODEGEN_GOLDEN_DIR};
    EXPECT_EQ(files_in(out), files_in(golden_dir)) << refresh_hint;
    for (const auto& name : files_in(out)) {
        const std::string fresh = read_file(out / name);
        const std::string golden = read_file(golden_dir / name);
        EXPECT_TRUE(fresh == golden) << name << " differs from " << (golden_dir / name)
                                     << "; fresh output is in " << (out / name) << "\n"
                                     << refresh_hint;
    }
}

TEST(Golden, OutputIsTheSameOnEveryRunAndFromAnyDirectory) {
    const fs::path dir = scratch_dir();
    const auto first = run_generator({"-o", (dir / "a").string(), CODEGEN_STUDENT_SCHEMA});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    // The same schema reached through another path must give the same bytes.
    fs::copy_file(CODEGEN_STUDENT_SCHEMA, dir / "student.fbs");
    const auto second = run_generator({"-o", (dir / "b").string(), (dir / "student.fbs").string()});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(read_file(dir / "a" / "student.shmrec.hpp"),
              read_file(dir / "b" / "student.shmrec.hpp"));
    EXPECT_EQ(read_file(dir / "a" / "student.shmrec.hpp").find(dir.string()), std::string::npos);
}

}  // namespace
}  // namespace codegen_test
