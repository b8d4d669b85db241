import ArgumentParser
import Backbones
import Experiments
import Foundation
import PEFTMethods

struct Params: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Total, used (read by the forward pass) and trainable parameters of a backbone adapted by a method.",
        discussion: "Without --method, every registered method with its defaults is listed.")

    @Option(help: "A backbone config.json: {\"backbone\": \"unetr\"|\"swinunetr\", \"args\": {MONAI arguments}}.")
    var backbone: String
    @Option(help: "A method name (\(MethodRegistry.names.joined(separator: ", "))).")
    var method: String?
    @Option(name: .customLong("method-config"), help: "The method's options as JSON, e.g. '{\"rank\": 2}'.")
    var methodConfig: String?
    @Flag(help: "Print JSON on stdout and nothing else there.")
    var json = false

    func run() throws {
        try reportingErrors {
            let config = try BackboneConfig.load(contentsOf: URL(fileURLWithPath: backbone))
            let names = method.map { [$0] } ?? MethodRegistry.names
            var reports: [ParameterReport] = []
            for name in names {
                let instance = try makeMethod(named: name, configurationJSON: method == nil ? nil : methodConfig)
                let report = try ParameterReport.make(backbone: config, method: instance)
                reports.append(report)
                if !json { print(report.text) }
            }
            if json {
                if reports.count == 1 { try printJSON(reports[0]) } else { try printJSON(reports) }
            }
        }
    }
}
