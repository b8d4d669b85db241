import Tensors
import Volumes

extension Dataset {
    /// The images of the training pool, prepared without their labels (a label of zeros on each
    /// image's grid), for stages that need images only (self-supervised pre-training).
    ///
    /// This is the only image-only read a data set offers, and it takes no case list: it cannot be
    /// handed a validation or test case, and no label file is opened. Not cached, so the labelled
    /// cases that `prepared(_:)` serves stay what they are.
    public func trainingPoolImages() throws -> [PreparedCase] {
        try parallelMap(splits.trainingPool) { try self.preparedImage($0) }
    }

    private func preparedImage(_ id: String) throws -> PreparedCase {
        guard let entry = scan.entry(id) else { throw DataError.unknownCase(dataset: name, id: id, source: "the training pool") }
        let image: Volume
        switch entry.source {
        case .files(let path, _):
            do {
                // As `load`: the header first, so that an image too large for memory is refused unread.
                let header = try NIfTI.readHeader(path: path)
                let share = MemoryBudget.affordableBytes() / max(1, Parallel.workers)
                try header.requireFits(share, what: "reading and preparing this image",
                                       bytes: header.voxelCount * Self.bytesPerCaseVoxel + header.decodedBytes)
                image = try NIfTI.read(path: path, memoryLimit: share)
            } catch let error as VolumeError {
                throw DataError.caseFailed(dataset: name, caseID: id, reason: error.description)
            }
        case .synthetic(let spec, let index):
            image = try SyntheticData.generate(spec, index: index).image
        }
        return try CasePreparation.prepareImage(image, id: id, dataset: name, preprocessing: spec.preprocessing)
    }
}
