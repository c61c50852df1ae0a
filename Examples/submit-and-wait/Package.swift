// swift-tools-version:6.2
// An example of driving Corral from Swift with the CorralClient library, without shelling out to `corral`.
import PackageDescription

let package = Package(
    name: "submit-and-wait",
    dependencies: [
        .package(name: "Corral", path: "../.."),
        .package(path: "../../Packages/ClusterWire"),
    ],
    targets: [
        .executableTarget(
            name: "submit-and-wait",
            dependencies: [
                .product(name: "CorralClient", package: "Corral"),
                .product(name: "ClusterWire", package: "ClusterWire"),
            ]
        )
    ]
)
