import Tensors
import XCTest

/// Library messages name settings in plain words until a caller installs its own names (the
/// command line's flags), and then by those.
final class UserSettingTests: XCTestCase {
    func testMessagesNameSettingsPlainlyUntilACallerInstallsItsNames() {
        XCTAssertEqual("add x to \(UserSetting.capture)", "add x to the capture list")
        UserSetting.install([.capture: "--capture"])
        defer { UserSetting.install([:]) }
        XCTAssertEqual("add x to \(UserSetting.capture)", "add x to --capture")
        XCTAssertEqual(UserSetting.model.name, "the model", "a setting the table leaves out keeps its words")
    }
}
