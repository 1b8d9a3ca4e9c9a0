import ModelHub
import XCTest
