// ScriptedImport: a test fixture that runs the importer (run_import) on a ScriptedSubscriber
// into a fresh region, with makers of student identities and batches (importer_test.cpp,
// review_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "import_progress.hpp"
#include "importer.hpp"
#include "scripted_subscriber.hpp"
#include "shmrec/broadcast.hpp"
#include "shmrec/ring.hpp"
#include "student.shmrec.hpp"
#include "test_names.hpp"

namespace shmrec_bridge_test {

class ScriptedImport : public shmrec_test::RegionFixture {
  protected:
    using Identity = shmrec::bridge::Identity;
    using Batch = shmrec::bridge::Batch;
    using SourceKind = shmrec::bridge::SourceKind;

    // The identity of a broadcast (or `kind`) of students on topic Students, from `epoch`.
    static Identity identity(std::uint64_t epoch, SourceKind kind = SourceKind::broadcast) {
        Identity id;
        id.topic = "Students";
        id.region = "StudentsA";
        id.type = shmrec::RecordType::of<school::Student>();
        id.capacity = 1024;
        id.session = 1;
        id.source_epoch = epoch;
        id.kind = kind;
        return id;
    }

    // Students first..first+count-1 at those positions of `epoch`, `lost_before` reported.
    static Batch students(std::uint64_t epoch, std::uint64_t first, std::uint32_t count,
                          std::uint64_t lost_before = 0, bool from_oldest = false) {
        std::vector<school::Student> records(count);
        for (std::uint32_t i = 0; i < count; ++i) {
            records[i].id = static_cast<std::int64_t>(first + i);
            records[i].name = "student-" + std::to_string(first + i);
        }
        const auto bytes = std::as_bytes(std::span(records));
        Batch b;
        b.session = 1;
        b.source_epoch = epoch;
        b.record = shmrec::bridge::RecordKey::of(shmrec::RecordType::of<school::Student>());
        b.first_position = first;
        b.lost_before = lost_before;
        b.record_count = count;
        b.records.assign(bytes.begin(), bytes.end());
        b.from_oldest = from_oldest;
        return b;
    }

    // Runs the importer through the rounds into a fresh region (ids_in_region() reads it).
    // `capacity`: of the region the importer creates (0: the identity's, 1024).
    shmrec::bridge::ImportCounts run(std::deque<std::vector<Arrival>> rounds,
                                     std::uint64_t capacity = 0) {
        region_ = name("import");
        return run_again(std::move(rounds), capacity);
    }
    // The same into the region of the last run(): a second importer after the first ended.
    shmrec::bridge::ImportCounts run_again(std::deque<std::vector<Arrival>> rounds,
                                           std::uint64_t capacity = 0) {
        shmrec::bridge::StopFlag stop;
        ScriptedSubscriber subscriber(std::move(rounds), stop);
        shmrec::bridge::ImportOptions options;
        options.topic = "Students";
        options.region = region_;
        options.capacity = capacity;
        return shmrec::bridge::run_import(subscriber, options, stop);
    }

    std::vector<std::int64_t> ids_in_region() {
        return ids_read_by(shmrec::Broadcast<school::Student>::reader(region_));
    }
    // The records of a ring region_, consumed by reading them.
    std::vector<std::int64_t> ids_in_ring() {
        return ids_read_by(shmrec::Ring<school::Student>::reader(region_));
    }
    // The ids of the students `reader` reads now.
    template <class Reader>
    static std::vector<std::int64_t> ids_read_by(Reader reader) {
        std::vector<std::int64_t> ids;
        school::Student s{};
        while (reader.try_read(s) == shmrec::ReadStatus::ok) ids.push_back(s.id);
        return ids;
    }

    static std::vector<std::int64_t> range(std::int64_t first, std::int64_t end) {
        std::vector<std::int64_t> ids;
        for (std::int64_t i = first; i < end; ++i) ids.push_back(i);
        return ids;
    }

    void TearDown() override {
        // The importer's progress cell, next to its region (bridge/src/import_progress.hpp).
        if (!region_.empty()) {
            (void)shmrec::remove_region(shmrec::Location::memory(
                shmrec::bridge::ImportProgress::cell_name(region_)));
        }
        shmrec_test::RegionFixture::TearDown();
    }

    std::string region_;
};

}  // namespace shmrec_bridge_test
