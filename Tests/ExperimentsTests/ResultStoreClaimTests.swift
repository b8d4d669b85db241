import Foundation
import XCTest
@testable import Experiments
import TestSupport

/// Runners sharing a results folder list their cells when they start and claim each before running it.
/// A cell another runner finished and released since the listing must not run again: two
/// single-thread runners on msd-hippocampus ran two cells twice before `claimUnfinished` (the one
/// that came second found the claim free and ran the finished cell).
final class ResultStoreClaimTests: XCTestCase {
    private func record(_ key: String, _ status: CellRecord.Status) -> CellRecord {
        CellRecord(key: key, spec: "s", backbone: "unetr", dataset: "toy", budget: "2", method: "full", methodName: "full",
                   methodConfiguration: "{}", seed: 0, version: resultsVersion, status: status)
    }

    private func claimFile(_ store: ResultStore, _ key: String) -> Bool {
        FileManager.default.fileExists(atPath: store.claims.appendingPathComponent(key).path)
    }

    func testACellFinishedAndReleasedSinceTheListingIsNotClaimed() throws {
        let folder = try TemporaryFolder()
        let store = ResultStore(root: folder.url)
        try store.prepare()
        // The other runner's whole turn: claim, record, release.
        XCTAssertTrue(try store.claim("k"))
        try store.save(record("k", .done))
        store.release("k")

        guard case .finished(let found) = try store.claimUnfinished("k") else {
            return XCTFail("a finished cell was claimed to run again")
        }
        XCTAssertEqual(found.key, "k")
        XCTAssertEqual(found.status, .done)
        XCTAssertFalse(claimFile(store, "k"), "the claim taken to look is released")
    }

    func testALiveClaimIsLeftToItsHolderAndAFailedCellIsClaimedToRetry() throws {
        let folder = try TemporaryFolder()
        let store = ResultStore(root: folder.url)
        try store.prepare()
        XCTAssertTrue(try store.claim("k"))  // held by a live process (this one), as another runner would hold it
        guard case .heldByAnother = try store.claimUnfinished("k") else { return XCTFail("a live claim was taken") }
        XCTAssertTrue(claimFile(store, "k"), "the holder's claim stays")
        store.release("k")

        try store.save(record("k", .failed))
        guard case .ours = try store.claimUnfinished("k") else { return XCTFail("a failed cell must be retried") }
        XCTAssertTrue(claimFile(store, "k"))
        guard case .heldByAnother = try store.claimUnfinished("k") else { return XCTFail("claimed twice") }
    }
}
